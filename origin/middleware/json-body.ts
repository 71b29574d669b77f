import type { MiddlewareHandler } from 'hono'
import { ApiError } from '../../shared/errors'
import { isJsonContentType } from '../../shared/http'

/** Bodies are JSON or nothing: a wrong content type is 415, unparseable JSON is 400 — before any handler runs. */
export function jsonBody(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'DELETE')
      return next()
    const raw = await c.req.arrayBuffer()
    if (raw.byteLength === 0) return next()
    const type = c.req.header('content-type') ?? ''
    if (!isJsonContentType(type)) {
      throw new ApiError('unsupported_media_type', 'Send the body as application/json', {
        details: { got: type || null },
      })
    }
    try {
      JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw))
    } catch {
      throw new ApiError('bad_request', 'Body is not valid JSON')
    }
    return next()
  }
}
