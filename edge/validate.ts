import type { Context } from 'hono'
import { ApiError, validationError } from '../shared/errors'
import { isJsonContentType } from '../shared/http'

/** Validates `value` against a zod schema; a failure is 400 listing each issue. */
export function parse<T>(
  schema: {
    safeParse(
      v: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } }
  },
  value: unknown,
): T {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw validationError(result.error.issues)
}

/** A JSON body checked like the origin checks one: 415 not JSON, 400 malformed, 422 invalid. */
export async function readJson<T>(c: Context, schema: Parameters<typeof parse<T>>[0]): Promise<T> {
  if (!isJsonContentType(c.req.header('content-type'))) {
    throw new ApiError('unsupported_media_type', 'Send the body as application/json')
  }
  let value: unknown
  try {
    value = await c.req.json()
  } catch {
    throw new ApiError('bad_request', 'The body is not valid JSON')
  }
  const result = schema.safeParse(value)
  if (result.success) return result.data
  throw validationError(result.error.issues, 'unprocessable', 'Body failed validation')
}
