import { Hono } from 'hono'
import { type Room, routes, toRoom } from '../../shared/api'
import { cacheKeys, cacheScopes } from '../../shared/cache-keys'
import { ApiError } from '../../shared/errors'
import { listPublicRooms, roomAccess } from '../../shared/queries'
import { cachedRead } from '../cache'
import { clients } from '../clients'
import type { AppEnv } from '../env'
import { requireAuth } from '../middleware/auth'
import { forwardToOrigin } from '../middleware/forward'
import { rateLimit } from '../middleware/ratelimit'
import { lookupAccess, roomObject } from '../rooms/access'
import { parse } from '../validate'

/** Rooms as resources at the edge: cached reads, and leaving (the origin, then the room). */
export const roomRoutes = new Hono<AppEnv>()

roomRoutes.get('/v1/rooms', rateLimit({ withRead: true }), async (c) => {
  const query = parse(routes.listRooms.request.query, c.req.query())
  const config = c.get('config')
  return cachedRead(c, {
    scope: cacheScopes.roomList,
    key: cacheKeys.roomList(query.cursor ?? '', query.limit),
    ttlSeconds: config.CACHE_TTL_ROOM_LIST_SECONDS,
    notFound: 'No such page',
    load: async () => {
      const page = await listPublicRooms(clients(config).readDb, query)
      return { items: page.items.map(toRoom), nextCursor: page.nextCursor }
    },
  })
})

roomRoutes.get('/v1/rooms/:id', rateLimit({ withRead: true }), async (c) => {
  const { id } = parse(routes.getRoom.request.params, c.req.param())
  const config = c.get('config')
  return cachedRead<Room>(c, {
    scope: cacheScopes.room(id),
    key: cacheKeys.room(id),
    ttlSeconds: config.CACHE_TTL_ROOM_SECONDS,
    notFound: 'No such room',
    load: async () => {
      const found = await roomAccess(clients(config).readDb, id, '')
      return found.room ? toRoom(found.room) : null
    },
    // The entry is shared; whether this caller may see a private room is checked every time.
    authorize: async (room) => {
      if (!room.isPrivate) return
      const found = await lookupAccess(c, id, c.get('userId'))
      if (!found.member) throw new ApiError('not_found', 'No such room')
    },
  })
})

roomRoutes.delete(
  '/v1/rooms/:id/members/me',
  rateLimit(),
  requireAuth(),
  async (c, next) => {
    const { id } = parse(routes.leaveRoom.request.params, c.req.param())
    await next()
    // Gone from the room: its open sockets go too (4403), so nothing more reaches them.
    if (c.res.status === 204) await roomObject(c, id).kick(c.get('userId'))
  },
  forwardToOrigin(),
)
