import type { Handler } from 'hono'
import type { RequestIdVariables } from 'hono/request-id'
import { ApiError } from '../../shared/errors'
import { signRequest } from '../../shared/internal/signature'
import { breakers, isOpenCircuit } from '../breakers'
import { errorFields, log } from '../log'
import type { AuthVariables } from './auth'
import type { ConfigVariables } from './config'

type ForwardEnv = { Variables: ConfigVariables & AuthVariables & RequestIdVariables }

/** Request headers the origin may see; anything else (Authorization, x-plaza-*, cookies) stays at the edge. */
const forwardedRequestHeaders = [
  'content-type',
  'accept',
  'accept-language',
  'if-match',
  'if-none-match',
  'user-agent',
]
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'content-length',
])

/**
 * Sends a write to the origin, signed with the edge's identity claim (DESIGN §2.7).
 * An unreachable origin is a 503 with Retry-After: the client retries, nothing is half-done.
 */
export function forwardToOrigin(
  options: { timeoutMs?: (config: ForwardEnv['Variables']['config']) => number } = {},
): Handler<ForwardEnv> {
  return async (c) => {
    const config = c.get('config')
    const timeoutMs = options.timeoutMs?.(config) ?? config.ORIGIN_TIMEOUT_MS
    const url = new URL(c.req.url)
    const pathWithQuery = url.pathname + url.search
    const body = new Uint8Array(await c.req.arrayBuffer())
    const headers = new Headers()
    for (const name of forwardedRequestHeaders) {
      const value = c.req.header(name)
      if (value) headers.set(name, value)
    }
    headers.set('x-request-id', c.get('requestId'))
    const clientIp = c.req.header('cf-connecting-ip')
    if (clientIp) headers.set('x-forwarded-for', clientIp)
    const signed = await signRequest(config.EDGE_SIGNING_SECRET, {
      method: c.req.method,
      pathWithQuery,
      userId: c.get('userId') ?? '',
      body,
    })
    for (const [name, value] of Object.entries(signed)) headers.set(name, value)

    let response: Response
    try {
      // Through the origin's breaker: while it is open, no request waits for the timeout.
      response = await breakers(config).origin.execute(() =>
        fetch(new URL(pathWithQuery, config.ORIGIN_URL), {
          method: c.req.method,
          headers,
          body: body.byteLength ? body : undefined,
          signal: AbortSignal.timeout(timeoutMs),
        }),
      )
    } catch (err) {
      log('warn', isOpenCircuit(err) ? 'origin circuit open' : 'origin unreachable', {
        reqId: c.get('requestId'),
        path: url.pathname,
        ...errorFields(err),
      })
      throw new ApiError('unavailable', 'The origin is unreachable; retry shortly', {
        headers: { 'Retry-After': '5' },
      })
    }
    const out = new Headers()
    response.headers.forEach((value, name) => {
      if (!hopByHop.has(name)) out.set(name, value)
    })
    return new Response(response.body, { status: response.status, headers: out })
  }
}
