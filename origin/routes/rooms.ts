import { OpenAPIHono } from '@hono/zod-openapi'
import { and, eq, sql } from 'drizzle-orm'
import { IngestBody, routes, toRoomDto } from '../../shared/api'
import { cacheScopes as scopes } from '../../shared/cache-keys'
import { ApiError, validationError } from '../../shared/errors'
import { newId } from '../../shared/ids'
import { getRoom } from '../../shared/queries'
import { messages, roomMembers, rooms } from '../../shared/schema'
import type { OriginEnv } from '../app'
import type { Database } from '../db'
import type { CacheInvalidator } from '../invalidation'
import { requireUser, validationHook } from './support'

/**
 * Room writes (create, join, leave) and the ingest the room Durable Objects ship their
 * outboxes to. Reads of rooms and history are answered by the edge.
 */
export function roomRoutes(deps: { db: Database['db']; invalidator: CacheInvalidator }) {
  const { db, invalidator } = deps
  const app = new OpenAPIHono<OriginEnv>({ defaultHook: validationHook })

  app.openapi(routes.createRoom, async (c) => {
    const userId = requireUser(c)
    const { name, isPrivate } = c.req.valid('json')
    const id = newId()
    const now = new Date()
    const invalidated = [scopes.roomList]
    await db.transaction(async (tx) => {
      await tx.insert(rooms).values({ id, name, isPrivate, ownerId: userId, createdAt: now })
      await tx.insert(roomMembers).values({ roomId: id, userId, role: 'owner', joinedAt: now })
      if (!isPrivate) await invalidator.bump(invalidated)
    })
    if (!isPrivate) await invalidator.bump(invalidated)
    return c.json(toRoomDto({ id, name, isPrivate, ownerId: userId, createdAt: now }), 201)
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

  /**
   * The room's outbox, shipped by its Durable Object: one multi-row INSERT, idempotent on
   * the primary key (room_id, seq), so a batch retried after a lost answer changes nothing.
   * Read markers only move forward.
   */
  app.post('/internal/rooms/:id/ingest', async (c) => {
    const roomId = c.req.param('id')
    const parsed = IngestBody.safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) throw validationError(parsed.error.issues, 'unprocessable')
    const batch = parsed.data
    await db.transaction(async (tx) => {
      if (batch.messages.length) {
        await tx
          .insert(messages)
          .values(
            batch.messages.map((m) => ({
              roomId,
              seq: m.seq,
              id: m.id,
              authorId: m.author,
              clientMsgId: m.clientMsgId,
              body: m.body,
              bodyBytes: new TextEncoder().encode(m.body).byteLength,
              createdAt: new Date(m.createdAt),
            })),
          )
          .onDuplicateKeyUpdate({ set: { seq: sql`seq` } })
      }
      for (const read of batch.reads) {
        await tx
          .update(roomMembers)
          .set({ lastReadSeq: sql`GREATEST(${roomMembers.lastReadSeq}, ${read.seq})` })
          .where(and(eq(roomMembers.roomId, roomId), eq(roomMembers.userId, read.user)))
      }
    })
    return c.json({ stored: batch.messages.length, reads: batch.reads.length })
  })

  return app
}
