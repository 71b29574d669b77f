import { and, eq, inArray, sql } from 'drizzle-orm'
import { Hono } from 'hono'
import { ApiError, validationError } from '../../shared/errors'
import { IngestBody } from '../../shared/internal/ingest'
import type { StoredMessage } from '../../shared/message'
import { messages, roomMembers } from '../../shared/schema'
import type { Database, Transaction } from '../db'
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
 * A shipped again message is the same message (same id): idempotent. A seq already held
 * by a *different* message means the room numbered twice (its storage was lost): keeping
 * the old row and answering success would drop an acked message silently, so the whole
 * batch is refused (409, rolled back) and the room sets it aside for an operator.
 */
async function refuseCollisions(
  tx: Transaction,
  roomId: string,
  shipped: StoredMessage[],
  log: OriginEnv['Variables']['log'],
): Promise<void> {
  const seqs = shipped.map((m) => m.seq)
  const stored = await tx
    .select({ seq: messages.seq, id: messages.id })
    .from(messages)
    .where(and(eq(messages.roomId, roomId), inArray(messages.seq, seqs)))
  const idOf = new Map(stored.map((r) => [r.seq, r.id]))
  const clashes = shipped.filter((m) => idOf.get(m.seq) !== m.id).map((m) => m.seq)
  if (!clashes.length) return
  log.error({ roomId, seqs: clashes.slice(0, 20), count: clashes.length }, 'ingest: seq collision')
  throw new ApiError('conflict', 'These seqs are already stored with other messages', {
    details: { seqs: clashes.slice(0, 100) },
  })
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
        await refuseCollisions(tx, roomId, batch.messages, c.var.log)
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
