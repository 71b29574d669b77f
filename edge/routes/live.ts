import { Hono } from 'hono'
import { ApiError, validationError } from '../../shared/errors'
import { verifyRequest } from '../../shared/internal/signature'
import { TilesSchema } from '../../shared/live'
import { closeCodes } from '../../shared/protocol'
import type { AppEnv } from '../env'
import { rateLimit } from '../middleware/ratelimit'
import { offeredProtocols, refuseSocket, socketAuth } from '../middleware/socket-auth'

/** The one live dashboard channel (per deployment: admins see global figures). */
const CHANNEL = 'dashboard'

/** The live dashboard: admins subscribe over a WebSocket; the origin posts tiles, signed. */
export const liveRoutes = new Hono<AppEnv>()

liveRoutes.get('/v1/dashboard/live', socketAuth(), rateLimit(), async (c) => {
  const protocols = offeredProtocols(c)
  // A browser sees no HTTP status on a failed upgrade: the refusal is a close code.
  if (c.var.userRole !== 'admin') {
    return refuseSocket(protocols, closeCodes.forbidden, 'admins only')
  }
  const headers = new Headers({ upgrade: 'websocket' })
  if (protocols.length) headers.set('sec-websocket-protocol', protocols.join(', '))
  headers.set('x-plaza-user', c.var.userId)
  headers.set('x-plaza-token-exp', String(c.var.tokenExp))
  const res = await c.env.LIVE.getByName(CHANNEL).fetch('https://live/ws', { headers })
  return new Response(res.body, {
    status: res.status,
    headers: res.headers,
    webSocket: res.webSocket,
  })
})

liveRoutes.post('/internal/live/tiles', async (c) => {
  const url = new URL(c.req.url)
  const body = new Uint8Array(await c.req.arrayBuffer())
  const verdict = await verifyRequest(
    [c.var.config.EDGE_SIGNING_SECRET],
    { method: 'POST', pathWithQuery: url.pathname, headers: c.req.raw.headers, body },
    { windowMs: 30_000 },
  )
  if (!verdict.ok) throw new ApiError('unauthorized', `Signature required: ${verdict.reason}`)
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(body))
  } catch {
    throw new ApiError('bad_request', 'The body is not valid JSON')
  }
  const parsed = TilesSchema.safeParse(value)
  if (!parsed.success) throw validationError(parsed.error.issues, 'unprocessable')
  await c.env.LIVE.getByName(CHANNEL).update(parsed.data)
  return c.body(null, 204)
})
