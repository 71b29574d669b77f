import { OpenAPIHono } from '@hono/zod-openapi'
import { and, eq, sql } from 'drizzle-orm'
import { routes, toRoom } from '../../shared/api'
import { cacheScopes as scopes } from '../../shared/cache-keys'
import { ApiError } from '../../shared/errors'
import { newId } from '../../shared/ids'
import { getRoom } from '../../shared/queries'
import { roomAnnouncements, roomMembers, rooms } from '../../shared/schema'
import type { Database } from '../db'
import type { OriginEnv } from '../env'
import { enqueueRoomEvent } from '../events/outbox'
import type { CacheInvalidator } from '../invalidation'
import { requireUser, validationHook } from './support'

/**
 * Room writes: create, join, leave, announce. Reads of rooms and history are answered by the edge;
 * messages arrive through the ingest (routes/ingest.ts).
 */
export function roomRoutes(deps: {
  db: Database['primary']
  invalidator: CacheInvalidator
  events: { kick(): void }
}) {
  const { db, invalidator } = deps
  const app = new OpenAPIHono<OriginEnv>({ defaultHook: validationHook })

  app.openapi(routes.createRoom, async (c) => {
    const userId = requireUser(c)
    const { name, isPrivate } = c.req.valid('json')
    const id = newId()
    const now = new Date()
    // A private room is in no cached list: nothing to invalidate.
    await invalidator.around(db, isPrivate ? [] : [scopes.roomList], async (tx) => {
      await tx.insert(rooms).values({ id, name, isPrivate, ownerId: userId, createdAt: now })
      await tx.insert(roomMembers).values({ roomId: id, userId, role: 'owner', joinedAt: now })
    })
    return c.json(toRoom({ id, name, isPrivate, ownerId: userId, createdAt: now }), 201)
  })

  app.openapi(routes.joinRoom, async (c) => {
    const userId = requireUser(c)
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const target = body.userId ?? userId
    const room = await getRoom(db, id)
    // A private room is invisible to everyone but its members; only the owner adds people.
    if (!room || (room.isPrivate && room.ownerId !== userId)) {
      throw new ApiError('not_found', 'No such room')
    }
    if (target !== userId && room.ownerId !== userId) {
      throw new ApiError('forbidden', 'Only the room owner adds other members')
    }
    const joinedAt = new Date()
    // Joining twice is not an error: the existing membership stands.
    await db
      .insert(roomMembers)
      .values({ roomId: id, userId: target, role: 'member', joinedAt })
      .onDuplicateKeyUpdate({ set: { roomId: sql`room_id` } })
    const [row] = await db
      .select()
      .from(roomMembers)
      .where(and(eq(roomMembers.roomId, id), eq(roomMembers.userId, target)))
      .limit(1)
    return c.json(
      {
        roomId: id,
        userId: target,
        role: row?.role ?? 'member',
        joinedAt: (row?.joinedAt ?? joinedAt).toISOString(),
      },
      201,
    )
  })

  app.openapi(routes.leaveRoom, async (c) => {
    const userId = requireUser(c)
    const { id } = c.req.valid('param')
    const [result] = await db
      .delete(roomMembers)
      .where(and(eq(roomMembers.roomId, id), eq(roomMembers.userId, userId)))
    if (!result.affectedRows) throw new ApiError('not_found', 'Not a member of this room')
    return c.body(null, 204)
  })

  // The transactional outbox in use: the announcement and its room event commit together.
  app.openapi(routes.announce, async (c) => {
    const userId = requireUser(c)
    const { id } = c.req.valid('param')
    const { body } = c.req.valid('json')
    const room = await getRoom(db, id)
    const [member] = room?.isPrivate
      ? await db
          .select({ userId: roomMembers.userId })
          .from(roomMembers)
          .where(and(eq(roomMembers.roomId, id), eq(roomMembers.userId, userId)))
      : [true]
    if (!room || !member) throw new ApiError('not_found', 'No such room')
    if (room.ownerId !== userId) throw new ApiError('forbidden', "Only the room's owner announces")
    const announcement = { id: newId(), roomId: id, authorId: userId, body, createdAt: new Date() }
    const eventId = await db.transaction(async (tx) => {
      const eventId = await enqueueRoomEvent(tx, { roomId: id, body })
      await tx.insert(roomAnnouncements).values({ ...announcement, eventId })
      return eventId
    })
    deps.events.kick()
    const { createdAt } = announcement
    return c.json(
      { id: announcement.id, roomId: id, eventId, createdAt: createdAt.toISOString() },
      202,
    )
  })

  return app
}
