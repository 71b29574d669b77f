import { type Context, Hono } from 'hono'
import { PostMessageBody, ReadBody, routes } from '../../shared/api'
import { ApiError } from '../../shared/errors'
import { closeCodes } from '../../shared/protocol'
import { getProfile } from '../../shared/queries'
import { clients } from '../clients'
import { fromDatabase } from '../database'
import type { AppEnv } from '../env'
import { requireAuth } from '../middleware/auth'
import { rateLimit } from '../middleware/ratelimit'
import { offeredProtocols, refuseSocket, socketAuth } from '../middleware/socket-auth'
import { roomHeaders } from '../room/headers'
import { lookupAccess, requireAccess, roomObject } from '../rooms/access'
import { parse, readJson } from '../validate'

/** What happens live in a room: routed to its Durable Object once the caller may use it. */
export const roomLive = new Hono<AppEnv>()

/** The sender's display name: from the token; read from the database only for a token without one. */
async function displayName(c: Context<AppEnv>): Promise<string> {
  if (c.get('userName')) return c.get('userName')
  const { readDb } = clients(c.get('config'))
  const profile = await fromDatabase(c.get('requestId'), () => getProfile(readDb, c.get('userId')))
  return profile?.displayName ?? 'someone'
}

/**
 * A room socket's connect is limited by the same rules, counted in the isolate (no Upstash
 * round trip): workerd keeps a proxied socket's upgrade request alive as long as the
 * socket, and with it what its subrequests held — ~17 KB a socket, and ~30 % of a
 * connect's time (docs/BENCHMARKS.md). What a connect can make a room hold is bounded in
 * the room itself (ROOM_MAX_SOCKETS_PER_USER, flood limits); every HTTP route keeps the
 * shared count.
 */
roomLive.get('/v1/rooms/:id/ws', socketAuth(), rateLimit({ inIsolate: true }), async (c) => {
  const { id } = parse(routes.roomSocket.request.params, c.req.param())
  const { lastSeq } = parse(routes.roomSocket.request.query, c.req.query())
  const protocols = offeredProtocols(c)
  const userId = c.get('userId')
  // Taken before the check: a leave the room records after this time beats this connect.
  const checkedAt = Date.now()
  const [found, name] = await Promise.all([lookupAccess(c, id, userId), displayName(c)])
  // No such room is the same answer as a private room you are not in (4403, final for the
  // SDK): a browser cannot read an HTTP 404 from a failed upgrade, and it would retry forever.
  if (!found.room || !found.allowed) {
    return refuseSocket(protocols, closeCodes.forbidden, 'no such room')
  }

  const headers = new Headers({ upgrade: 'websocket' })
  if (protocols.length) headers.set('sec-websocket-protocol', protocols.join(', '))
  headers.set(roomHeaders.userId, userId)
  headers.set(roomHeaders.userName, encodeURIComponent(name))
  headers.set(roomHeaders.tokenExp, String(c.get('tokenExp')))
  headers.set(roomHeaders.checkedAt, String(checkedAt))
  if (lastSeq !== undefined) headers.set(roomHeaders.lastSeq, String(lastSeq))
  const res = await roomObject(c, id).fetch('https://room/ws', { headers })
  // A fresh Response, so the middleware on the way out can still add headers.
  return new Response(res.body, {
    status: res.status,
    headers: res.headers,
    webSocket: res.webSocket,
  })
})

/**
 * A send's limits are counted in the isolate too, as a WebSocket send's are: the shared,
 * exact limit on sends is the room's per-user budget (ROOM_USER_SENDS_*), kept where the
 * send is serialized, for every edge at once. An Upstash round trip here was ~40 % of the
 * edge's CPU per HTTP send (docs/BENCHMARKS.md) and added nothing the room does not hold.
 */
roomLive.post(
  '/v1/rooms/:id/messages',
  rateLimit({ inIsolate: true }),
  requireAuth(),
  async (c) => {
    const { id } = parse(routes.postMessage.request.params, c.req.param())
    const body = await readJson(c, PostMessageBody)
    // Access first, then the name: a refused send must not leave a read in flight when the
    // response goes out (workerd cancels it, and the cancellation reset the client's connection).
    await requireAccess(c, id)
    const user = { id: c.get('userId'), name: await displayName(c) }
    const result = await roomObject(c, id).post(user, body.clientMsgId, body.body)
    if (result.ok) return c.json(result.ack, 201)
    throw new ApiError(result.code, result.message, {
      headers:
        result.code === 'unavailable'
          ? { 'Retry-After': '5' }
          : result.code === 'rate_limited'
            ? { 'Retry-After': '1' }
            : {},
      details: { clientMsgId: body.clientMsgId },
    })
  },
)

roomLive.post('/v1/rooms/:id/read', rateLimit(), requireAuth(), async (c) => {
  const { id } = parse(routes.markRead.request.params, c.req.param())
  const { seq } = await readJson(c, ReadBody)
  await requireAccess(c, id)
  await roomObject(c, id).markRead(c.get('userId'), seq)
  return c.body(null, 202)
})

roomLive.get('/v1/rooms/:id/presence', rateLimit(), async (c) => {
  const { id } = parse(routes.presence.request.params, c.req.param())
  await requireAccess(c, id)
  c.header('Cache-Control', 'no-store')
  return c.json(await roomObject(c, id).presenceOf())
})
