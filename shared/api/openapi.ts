import { z } from '@hono/zod-openapi'

/** The pieces every route description is made of: the error body, JSON bodies, common errors. */

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'bad_request' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error')

export const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
})

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

export const commonErrors = {
  400: error('Malformed request (not JSON, bad query)'),
  413: error('Body larger than the limit'),
  415: error('Body is not application/json'),
  422: error('Body fails validation; details lists each field'),
  429: error('Rate limited; see Retry-After and RateLimit-* headers'),
  503: error('A dependency is down; retry after Retry-After'),
}

export const bearer = [{ bearer: [] }]

export const notModified = { description: 'Not modified (If-None-Match)' }

/** A page of a list: its items and the cursor of the next page (null: the last). */
export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name)

/** Cursor pagination shared by every list. */
export const pageQuery = (cursorMax: number) =>
  z.object({
    cursor: z.string().max(cursorMax).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
