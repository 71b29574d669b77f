import { z } from '@hono/zod-openapi'
import { idPattern } from '../ids'

/** Field types the API's bodies and resources share. */

/** Text a person typed: trimmed, no control characters. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters')

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email())
  .openapi({ example: 'ada@example.com' })

export const Password = z.string().min(10, 'must be at least 10 characters').max(256)

export const UserId = z
  .string()
  .regex(idPattern, 'must be a ULID')
  .openapi({ example: '01JD3Q6Z8Y0000000000000000' })

export const RoomId = UserId.openapi({ example: '01JD3Q6Z8Y0000000000000001' })

export const timestamp = () => z.string().openapi({ format: 'date-time' })
