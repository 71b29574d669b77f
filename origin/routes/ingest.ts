import { and, eq, sql } from 'drizzle-orm'
import { Hono } from 'hono'
import { validationError } from '../../shared/errors'
import { IngestBody } from '../../shared/internal/ingest'
import type { StoredMessage } from '../../shared/message'
import { messages, roomMembers } from '../../shared/schema'
import type { Database } from '../db'
import type { OriginEnv } from '../env'

const encoder = new TextEncoder()

/** A shipped message as its MySQL row. */
function toRow(roomId: string, m: StoredMessage): typeof messages.$inferInsert {
  return {
    roomId,
    seq: m.seq,
    id: m.id,
    authorId: m.author,
    clientMsgId: m.clientMsgId,
    body: m.body,
    bodyBytes: encoder.encode(m.body).byteLength,
    createdAt: new Date(m.createdAt),
  }
}

/**
 * The rooms' outboxes arrive here, shipped by their Durable Objects (signed): one
 * multi-row INSERT, idempotent on the primary key (room_id, seq), so a batch retried
 * after a lost answer changes nothing. Read markers only move forward.
 */
export function ingestRoutes({ db }: { db: Database['db'] }) {
  const app = new Hono<OriginEnv>()
  app.post('/internal/rooms/:id/ingest', async (c) => {
    const roomId = c.req.param('id')
    const parsed = IngestBody.safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) throw validationError(parsed.error.issues, 'unprocessable')
    const batch = parsed.data
    await db.transaction(async (tx) => {
      if (batch.messages.length) {
        await tx
          .insert(messages)
          .values(batch.messages.map((m) => toRow(roomId, m)))
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
