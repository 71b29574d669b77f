import { type Context, Hono, type MiddlewareHandler } from 'hono'
import {
  type MessagePageSchema,
  PostMessageBody,
  ReadBody,
  type RoomDto,
  routes,
  toRoomDto,
} from '../../shared/api'
import { cacheKeys, cacheScopes } from '../../shared/cache-keys'
import { ApiError } from '../../shared/errors'
import { closeCodes, type MessageDto, PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../../shared/protocol'
import { getProfile, listMessages, listPublicRooms, roomAccess } from '../../shared/queries'
import type { Room } from '../../shared/schema'
import { verifyRequest } from '../../shared/signature'
import { cachedRead, databaseUnreachable } from '../cache'
import type { AppEnv } from '../env'
import { errorFields, log } from '../log'
import { requireAuth, verifyAccessToken } from '../middleware/auth'
import { forwardToOrigin } from '../middleware/forward'
import { rateLimit } from '../middleware/ratelimit'
import { roomHeaders } from '../room'
import { services } from '../services'
import { parse, readJson } from '../validate'

type Page = typeof MessagePageSchema._output

/** Rooms at the edge: cached reads, and everything live routed to the room's Durable Object. */
export const roomRoutes = new Hono<AppEnv>()

function roomObject(c: Context<AppEnv>, roomId: string) {
  return c.env.ROOMS.get(c.env.ROOMS.idFromName(roomId))
}

async function fromDatabase<T>(c: Context<AppEnv>, query: () => Promise<T>): Promise<T> {
  try {
    return await query()
  } catch (err) {
    if (err instanceof ApiError) throw err
    log('warn', 'database unreachable', { requestId: c.var.requestId, ...errorFields(err) })
    throw databaseUnreachable()
  }
}

/**
 * Room records never change after creation (no rename, no privacy switch), so each isolate
 * keeps the ones it has seen: a public room's sockets and sends then need no database
 * read for access at all. Bounded; the oldest goes first.
 */
const knownRooms = new Map<string, Room>()
async function checkAccess(c: Context<AppEnv>, roomId: string, userId: string) {
  const db = services(c.var.config).readDb
  const found = await fromDatabase(c, () => roomAccess(db, roomId, userId, knownRooms.get(roomId)))
  if (found.room && !knownRooms.has(roomId)) {
    knownRooms.set(roomId, found.room)
    if (knownRooms.size > 10_000) knownRooms.delete(knownRooms.keys().next().value as string)
  }
  return found
}

/** Who may use a room: anyone for public rooms (signed in to write), members for private ones. */
async function access(c: Context<AppEnv>, roomId: string, userId = c.var.userId) {
  const found = await checkAccess(c, roomId, userId)
  if (!found.room) throw new ApiError('not_found', 'No such room')
  if (found.room.isPrivate && !found.member) {
    if (!userId) throw new ApiError('unauthorized', 'A private room: sign in first')
    throw new ApiError('forbidden', 'A private room: only its members can see or use it')
  }
  return found
}

roomRoutes.get('/v1/rooms', rateLimit({ withRead: true }), async (c) => {
  const query = parse(routes.listRooms.request.query, c.req.query())
  const config = c.var.config
  return cachedRead(c, {
    scope: cacheScopes.roomList,
    key: cacheKeys.roomList(query.cursor ?? '', query.limit),
    ttlSeconds: config.CACHE_TTL_ROOM_LIST_SECONDS,
    notFound: 'No such page',
    load: async () => {
      const page = await listPublicRooms(services(config).readDb, query)
      return { items: page.items.map(toRoomDto), nextCursor: page.nextCursor }
    },
  })
})

roomRoutes.get('/v1/rooms/:id', rateLimit({ withRead: true }), async (c) => {
  const { id } = parse(routes.getRoom.request.params, c.req.param())
  const config = c.var.config
  return cachedRead(c, {
    scope: cacheScopes.room(id),
    key: cacheKeys.room(id),
    ttlSeconds: config.CACHE_TTL_ROOM_SECONDS,
    notFound: 'No such room',
    load: async () => {
      const found = await roomAccess(services(config).readDb, id, '')
      return found.room ? toRoomDto(found.room) : null
    },
    // The entry is shared; whether this caller may see a private room is checked every time.
    authorize: async (room) => {
      if (!(room as RoomDto).isPrivate) return
      const found = await checkAccess(c, id, c.var.userId)
      if (!found.member) throw new ApiError('not_found', 'No such room')
    },
  })
})

/** Answers a WebSocket upgrade by accepting it and closing at once with `code`: browsers only see close codes. */
function refuse(protocols: string[], code: number, reason: string): Response {
  const pair = new WebSocketPair()
  const [client, server] = [pair[0], pair[1]]
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
const socketAuth = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
    throw new ApiError('upgrade_required', 'This is a WebSocket endpoint (subprotocol plaza.v1)', {
      headers: { Upgrade: 'websocket' },
    })
  }
  const protocols = offeredProtocols(c)
  if (protocols.length && !protocols.includes(PROTOCOL)) {
    throw new ApiError('bad_request', `Unsupported subprotocol: offer ${PROTOCOL}`)
  }
  if (!c.var.userId) {
    const token = protocols.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))
    if (!token) return refuse(protocols, closeCodes.unauthorized, 'sign in first')
    try {
      const { sub, exp } = await verifyAccessToken(
        c.var.config,
        token.slice(TOKEN_PROTOCOL_PREFIX.length),
      )
      c.set('userId', sub)
      c.set('tokenExp', exp)
    } catch (err) {
      return refuse(protocols, closeCodes.unauthorized, (err as Error).message.slice(0, 100))
    }
  }
  await next()
}

function offeredProtocols(c: Context<AppEnv>): string[] {
  return (c.req.header('sec-websocket-protocol') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
}

roomRoutes.get('/v1/rooms/:id/ws', socketAuth(), rateLimit(), async (c) => {
  const { id } = parse(routes.roomSocket.request.params, c.req.param())
  const { lastSeq } = parse(routes.roomSocket.request.query, c.req.query())
  const protocols = offeredProtocols(c)
  const userId = c.var.userId
  const exp = c.var.tokenExp
  const config = c.var.config
  const [found, profile] = await Promise.all([
    checkAccess(c, id, userId),
    fromDatabase(c, () => getProfile(services(config).readDb, userId)),
  ])
  // No such room is the same answer as a private room you are not in (4403, final for the
  // SDK): a browser cannot read an HTTP 404 from a failed upgrade, and it would retry forever.
  if (!found.room) return refuse(protocols, closeCodes.forbidden, 'no such room')
  if (!found.allowed) return refuse(protocols, closeCodes.forbidden, 'not a member of this room')

  const headers = new Headers({ upgrade: 'websocket' })
  if (protocols.length) headers.set('sec-websocket-protocol', protocols.join(', '))
  headers.set(roomHeaders.room, id)
  headers.set(roomHeaders.userId, userId)
  headers.set(roomHeaders.userName, encodeURIComponent(profile?.displayName ?? 'someone'))
  headers.set(roomHeaders.tokenExp, String(exp))
  if (lastSeq !== undefined) headers.set(roomHeaders.lastSeq, String(lastSeq))
  const res = await roomObject(c, id).fetch('https://room/ws', { headers })
  // A fresh Response, so the middleware on the way out can still add headers.
  return new Response(res.body, {
    status: res.status,
    headers: res.headers,
    webSocket: res.webSocket,
  })
})

roomRoutes.post('/v1/rooms/:id/messages', rateLimit(), requireAuth(), async (c) => {
  const { id } = parse(routes.postMessage.request.params, c.req.param())
  const body = await readJson(c, PostMessageBody)
  // Access first, then the name: a refused send must not leave a read in flight when the
  // response goes out (workerd cancels it, and the cancellation reset the client's connection).
  await access(c, id)
  const profile = await fromDatabase(c, () =>
    getProfile(services(c.var.config).readDb, c.var.userId),
  )
  const user = { id: c.var.userId, name: profile?.displayName ?? 'someone' }
  const result = await roomObject(c, id).post(id, user, body.clientMsgId, body.body)
  if (result.ok) return c.json(result.ack, 201)
  throw new ApiError(result.code, result.message, {
    headers: result.code === 'unavailable' ? { 'Retry-After': '5' } : {},
    details: { clientMsgId: body.clientMsgId },
  })
})

roomRoutes.post('/v1/rooms/:id/read', rateLimit(), requireAuth(), async (c) => {
  const { id } = parse(routes.markRead.request.params, c.req.param())
  const { seq } = await readJson(c, ReadBody)
  await access(c, id)
  await roomObject(c, id).markRead(id, c.var.userId, seq)
  return c.body(null, 202)
})

roomRoutes.get('/v1/rooms/:id/presence', rateLimit(), async (c) => {
  const { id } = parse(routes.presence.request.params, c.req.param())
  await access(c, id)
  c.header('Cache-Control', 'no-store')
  return c.json(await roomObject(c, id).presenceOf(id))
})

roomRoutes.delete('/v1/rooms/:id/members/me', rateLimit(), requireAuth(), async (c, next) => {
  const { id } = parse(routes.leaveRoom.request.params, c.req.param())
  const res = await forwardToOrigin()(c, next)
  // Gone from the room: its open sockets go too (4403), so nothing more reaches them.
  if (res instanceof Response && res.status === 204) {
    await roomObject(c, id).kick(id, c.var.userId)
  }
  return res
})

/**
 * History, oldest first. The room holds its recent window (and everything not yet in
 * MySQL); everything older is in MySQL. A page bounded by `before`/`after` that comes back
 * full can never change, so it is cached for CACHE_TTL_HISTORY_SECONDS; other pages are
 * assembled every time, so a message acked a moment ago is always there.
 */
roomRoutes.get('/v1/rooms/:id/messages', rateLimit(), async (c) => {
  const { id } = parse(routes.listMessages.request.params, c.req.param())
  const q = parse(routes.listMessages.request.query, c.req.query())
  await access(c, id)
  const config = c.var.config
  const { redis, readDb } = services(config)
  const bounded = q.before !== undefined || q.after !== undefined
  const key = cacheKeys.messagePage(id, q.before ?? '', q.after ?? '', q.limit)
  c.header('Cache-Control', 'no-cache')
  if (bounded) {
    const cached = await redis.get<Page>(key).catch(() => null)
    if (cached) {
      c.header('x-cache', 'HIT')
      return c.json(cached)
    }
  }
  const window = await roomObject(c, id).history(id, q)
  const lo = window.lowestHeld
  let items: MessageDto[] = window.items
  const toDto = (rows: Awaited<ReturnType<typeof listMessages>>): MessageDto[] =>
    rows.map((r) => ({
      seq: r.seq,
      id: r.id,
      author: r.authorId,
      body: r.body,
      createdAt: r.createdAt.toISOString(),
      clientMsgId: r.clientMsgId,
    }))
  const forward = q.after !== undefined
  const floor = q.after ?? 0
  if (floor + 1 < lo && (forward || items.length < q.limit)) {
    // Part of the page is older than the room's window: MySQL has all of it.
    const before = Math.min(lo, q.before ?? lo)
    const older = await fromDatabase(c, () =>
      listMessages(readDb, id, {
        after: q.after,
        before,
        limit: forward ? q.limit : q.limit - items.length,
      }),
    )
    items = forward ? [...toDto(older), ...items].slice(0, q.limit) : [...toDto(older), ...items]
  }
  const page: Page = { items, full: items.length === q.limit }
  if (bounded && page.full) {
    c.executionCtx.waitUntil(
      redis.set(key, page, { ex: config.CACHE_TTL_HISTORY_SECONDS }).catch(() => undefined),
    )
  }
  c.header('x-cache', bounded && page.full ? 'MISS' : 'BYPASS')
  return c.json(page)
})

/**
 * For operators and tests: a room's own bookkeeping (seq, outbox, window, sockets, wakes).
 * Signed like every edge→origin call (EDGE_SIGNING_SECRET), so it is not public.
 */
roomRoutes.get('/internal/rooms/:id/stats', async (c) => {
  const url = new URL(c.req.url)
  const verdict = await verifyRequest(
    [c.var.config.EDGE_SIGNING_SECRET],
    {
      method: 'GET',
      pathWithQuery: url.pathname + url.search,
      headers: c.req.raw.headers,
      body: new Uint8Array(),
    },
    { windowMs: 30_000 },
  )
  if (!verdict.ok) throw new ApiError('unauthorized', `Signature required: ${verdict.reason}`)
  const { id } = parse(routes.getRoom.request.params, c.req.param())
  return c.json(await roomObject(c, id).stats(id))
})
