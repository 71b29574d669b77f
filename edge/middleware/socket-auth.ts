import type { Context, MiddlewareHandler } from 'hono'
import { ApiError } from '../../shared/errors'
import { closeCodes, PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../../shared/protocol'
import { type AuthVariables, verifyAccessToken } from './auth'
import type { ConfigVariables } from './config'

type SocketEnv = { Variables: ConfigVariables & AuthVariables }

/** The subprotocols a WebSocket upgrade offers. */
export function offeredProtocols(c: Context): string[] {
  return (c.req.header('sec-websocket-protocol') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
}

/** Answers an upgrade by accepting it and closing at once with `code`: browsers only see close codes. */
export function refuseSocket(protocols: string[], code: number, reason: string): Response {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
  server.accept()
  server.close(code, reason)
  const headers = new Headers()
  if (protocols.includes(PROTOCOL)) headers.set('sec-websocket-protocol', PROTOCOL)
  return new Response(null, { status: 101, webSocket: client, headers })
}

/**
 * Browsers cannot send Authorization on a WebSocket: the token may come as the subprotocol
 * `plaza.bearer.<token>`. Verified here, before the rate limit, so sockets count per user.
 * A bad token is not an HTTP 401 (a browser could not see it) but a 4401 close.
 */
export function socketAuth(): MiddlewareHandler<SocketEnv> {
  return async (c, next) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new ApiError(
        'upgrade_required',
        'This is a WebSocket endpoint (subprotocol plaza.v1)',
        {
          headers: { Upgrade: 'websocket' },
        },
      )
    }
    const protocols = offeredProtocols(c)
    if (protocols.length && !protocols.includes(PROTOCOL)) {
      throw new ApiError('bad_request', `Unsupported subprotocol: offer ${PROTOCOL}`)
    }
    if (!c.get('userId')) {
      const token = protocols.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))
      if (!token) return refuseSocket(protocols, closeCodes.unauthorized, 'sign in first')
      try {
        const bearer = token.slice(TOKEN_PROTOCOL_PREFIX.length)
        const { sub, exp, name, role } = await verifyAccessToken(c.get('config'), bearer)
        c.set('userId', sub)
        c.set('tokenExp', exp)
        c.set('userName', name)
        c.set('userRole', role)
      } catch (err) {
        return refuseSocket(
          protocols,
          closeCodes.unauthorized,
          (err as Error).message.slice(0, 100),
        )
      }
    }
    await next()
  }
}
