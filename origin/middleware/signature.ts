import type { MiddlewareHandler } from 'hono'
import { ApiError } from '../../shared/errors'
import { verifyRequest } from '../../shared/internal/signature'
import type { OriginEnv } from '../env'

/**
 * Trust boundary (DESIGN §2.7): the origin takes identity only from requests the edge
 * signed. Anything unsigned, stale or tampered is 401 before any handler runs.
 */
export function edgeSignature(options: {
  secrets: string[]
  windowMs: number
}): MiddlewareHandler<OriginEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url)
    const result = await verifyRequest(
      options.secrets,
      {
        method: c.req.method,
        pathWithQuery: url.pathname + url.search,
        headers: c.req.raw.headers,
        body: await c.req.arrayBuffer(),
      },
      { windowMs: options.windowMs },
    )
    if (!result.ok) {
      c.var.log.warn({ reason: result.reason, path: url.pathname }, 'rejected unsigned request')
      throw new ApiError('unauthorized', `Request not signed by the edge: ${result.reason}`)
    }
    c.set('userId', result.userId)
    await next()
  }
}
