import { Hono } from 'hono'
import { TilesSchema } from '../../shared/live'
import { closeCodes } from '../../shared/protocol'
import type { AppEnv } from '../env'
import { rateLimit } from '../middleware/ratelimit'
import { offeredProtocols, refuseSocket, socketAuth } from '../middleware/socket-auth'
import { requireSignature } from '../signed'
import { readJson } from '../validate'

/** The one live dashboard channel (per deployment: admins see global figures). */
const CHANNEL = 'dashboard'

/** The live dashboard: admins subscribe over a WebSocket; the origin posts tiles, signed. */
export const liveRoutes = new Hono<AppEnv>()

liveRoutes.get('/v1/dashboard/live', socketAuth(), rateLimit(), async (c) => {
  const protocols = offeredProtocols(c)
  // A browser sees no HTTP status on a failed upgrade: the refusal is a close code.
  if (c.get('userRole') !== 'admin') {
    return refuseSocket(protocols, closeCodes.forbidden, 'admins only')
  }
  const headers = new Headers({ upgrade: 'websocket' })
  if (protocols.length) headers.set('sec-websocket-protocol', protocols.join(', '))
  headers.set('x-plaza-user', c.get('userId'))
  headers.set('x-plaza-token-exp', String(c.get('tokenExp')))
  const res = await c.env.LIVE.getByName(CHANNEL).fetch('https://live/ws', { headers })
  return new Response(res.body, {
    status: res.status,
    headers: res.headers,
    webSocket: res.webSocket,
  })
})

liveRoutes.post('/internal/live/tiles', async (c) => {
  await requireSignature(c, [c.get('config').EDGE_SIGNING_SECRET], 'Signature required')
  const tiles = await readJson(c, TilesSchema)
  await c.env.LIVE.getByName(CHANNEL).update(tiles)
  return c.body(null, 204)
})
