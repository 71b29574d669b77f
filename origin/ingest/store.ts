import { and, between, eq, or, sql } from 'drizzle-orm'
import { IngestBody, type RoomIngestOutcome } from '../../shared/internal/ingest'
import type { StoredMessage } from '../../shared/message'
import { messages, roomMembers } from '../../shared/schema'
import type { Database, Transaction } from '../db'

const encoder = new TextEncoder()
/** Rows per INSERT statement: 1,000 bodies of a few KB stay far under max_allowed_packet. */
const ROWS_PER_INSERT = 1000

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

export interface RoomPart {
  roomId: string
  batch: IngestBody
}

/** Thrown inside the transaction to roll it back when some rooms' seqs collide. */
class Collisions extends Error {
  constructor(readonly seqsByRoom: Map<string, number[]>) {
    super('seq collisions')
  }
}

/**
 * A seq already held by a *different* message means a room numbered twice (its storage
 * was lost): keeping the old row and answering success would drop an acked message
 * silently. Checked after the insert, inside its transaction, so a racing shipment
 * cannot slip between the check and the write.
 */
async function collisions(tx: Transaction, parts: RoomPart[]): Promise<Map<string, number[]>> {
  const ranges = parts
    .filter((p) => p.batch.messages.length)
    .map((p) => {
      const seqs = p.batch.messages.map((m) => m.seq)
      return and(
        eq(messages.roomId, p.roomId),
        between(messages.seq, Math.min(...seqs), Math.max(...seqs)),
      )
    })
  const clashes = new Map<string, number[]>()
  if (!ranges.length) return clashes
  const stored = await tx
    .select({ roomId: messages.roomId, seq: messages.seq, id: messages.id })
    .from(messages)
    .where(or(...ranges))
  const idOf = new Map(stored.map((r) => [`${r.roomId}:${r.seq}`, r.id]))
  for (const p of parts) {
    const seqs = p.batch.messages
      .filter((m) => idOf.get(`${p.roomId}:${m.seq}`) !== m.id)
      .map((m) => m.seq)
    if (seqs.length) clashes.set(p.roomId, seqs)
  }
  return clashes
}

async function write(tx: Transaction, parts: RoomPart[]): Promise<void> {
  const rows = parts.flatMap((p) => p.batch.messages.map((m) => toRow(p.roomId, m)))
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    await tx
      .insert(messages)
      .values(rows.slice(i, i + ROWS_PER_INSERT))
      .onDuplicateKeyUpdate({ set: { seq: sql`seq` } })
  }
  const clashes = await collisions(tx, parts)
  if (clashes.size) throw new Collisions(clashes)
  for (const p of parts) {
    for (const read of p.batch.reads) {
      await tx
        .update(roomMembers)
        .set({ lastReadSeq: sql`GREATEST(${roomMembers.lastReadSeq}, ${read.seq})` })
        .where(and(eq(roomMembers.roomId, p.roomId), eq(roomMembers.userId, read.user)))
    }
  }
}

export interface StoreReport {
  outcomes: RoomIngestOutcome[]
  /** Rooms refused for colliding seqs, with those seqs (for the log and the 409's details). */
  collided: Map<string, number[]>
}

/**
 * The rooms' batches into MySQL in one transaction: multi-row INSERTs idempotent on the
 * primary key (room_id, seq), so a batch shipped again after a lost answer changes
 * nothing; read markers only move forward. A room whose part is invalid (422) or collides
 * (409) is refused on its own — the transaction is rolled back and written again without
 * it — so one broken room never holds the others' messages back.
 */
export async function storeBatches(
  db: Database['db'],
  raw: Array<{ roomId: string; batch: unknown }>,
): Promise<StoreReport> {
  const outcomes = new Map<string, RoomIngestOutcome>()
  const collided = new Map<string, number[]>()
  let parts: RoomPart[] = []
  for (const { roomId, batch } of raw) {
    const parsed = IngestBody.safeParse(batch)
    if (parsed.success) parts.push({ roomId, batch: parsed.data })
    else {
      const reason = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')
      outcomes.set(roomId, { roomId, stored: false, status: 422, reason })
    }
  }
  // Each retry drops at least one room, so this ends.
  while (parts.length) {
    try {
      await db.transaction((tx) => write(tx, parts))
      break
    } catch (err) {
      if (!(err instanceof Collisions)) throw err
      for (const [roomId, seqs] of err.seqsByRoom) {
        collided.set(roomId, seqs)
        const reason = `seqs already stored with other messages: ${seqs.slice(0, 20).join(', ')}`
        outcomes.set(roomId, { roomId, stored: false, status: 409, reason })
      }
      parts = parts.filter((p) => !err.seqsByRoom.has(p.roomId))
    }
  }
  for (const p of parts) outcomes.set(p.roomId, { roomId: p.roomId, stored: true })
  return { outcomes: raw.map((p) => outcomes.get(p.roomId)!), collided }
}
