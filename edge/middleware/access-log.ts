import type { MiddlewareHandler } from 'hono'
import type { RequestIdVariables } from 'hono/request-id'
import { recordRequest } from '../analytics'
import { log } from '../log'

/**
 * One `request` line per request, like the origin's: `reqId` (the same value the origin
 * logs for a forwarded request, and the client gets as X-Request-Id), method, path,
 * status, time, and the cache's verdict where there was one. No query string, no headers:
 * they can carry what must not be logged. The same facts go to Analytics Engine where a
 * dataset is bound (edge/analytics.ts).
 */
export function accessLog(): MiddlewareHandler<{ Variables: RequestIdVariables }> {
  return async (c, next) => {
    const started = Date.now()
    await next()
    const facts = {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      // Workers advance the clock only across I/O: this is time waited, not CPU.
      ms: Date.now() - started,
      cache: c.res.headers.get('x-cache') ?? undefined,
    }
    log('info', 'request', { reqId: c.get('requestId'), ...facts })
    recordRequest((c.env as { ANALYTICS?: unknown } | undefined)?.ANALYTICS, facts)
  }
}
