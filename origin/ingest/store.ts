import { and, between, eq, or, sql } from 'drizzle-orm'
import { IngestBody, type RoomIngestOutcome } from '../../shared/internal/ingest'
import type { StoredMessage } from '../../shared/message'
import { messages, roomMembers } from '../../shared/schema'
import type { Database, Transaction } from '../db'
import { isDeadlock } from '../mysql-errors'
import { addToRollups } from './rollups'

const encoder = new TextEncoder()
/** Rows per INSERT statement: 1,000 bodies of a few KB stay far under max_allowed_packet. */
const ROWS_PER_INSERT = 1000
/** Times a shipment's transaction runs again after a race or a deadlock. */
const RETRIES = 5

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
/**
 * The insert stored fewer rows than the reading called new: another transaction wrote
 * some of them in between (a reship racing its original). Rolled back and run again, the
 * reading then sees them — so nothing is counted twice, and no lock was held to know it.
 */
class Raced extends Error {
  constructor() {
    super('a concurrent shipment stored some of these messages first')
  }
}

class Collisions extends Error {
  constructor(readonly seqsByRoom: Map<string, number[]>) {
    super('seq collisions')
  }
}

/** What MySQL already holds of the parts' messages, read under lock. */
interface Holdings {
  /** `room:seq` → the id stored there. */
  idOf: Map<string, string>
}

/**
 * Reads what is already stored in the parts' seq ranges: each message is new, already
 * here (a reship), or its seq is held by a *different* message — a room numbered twice
 * (its storage was lost), where keeping the old row and answering success would drop an
 * acked message silently. No locking read (gap locks made adjacent shipments of one room
 * deadlock): the insert confirms the reading, see `Raced`.
 */
async function holdings(tx: Transaction, parts: RoomPart[]): Promise<Holdings> {
  const ranges = parts
    .filter((p) => p.batch.messages.length)
    .map((p) => {
      const seqs = p.batch.messages.map((m) => m.seq)
      return and(
        eq(messages.roomId, p.roomId),
        between(messages.seq, Math.min(...seqs), Math.max(...seqs)),
      )
    })
  if (!ranges.length) return { idOf: new Map() }
  const stored = await tx
    .select({ roomId: messages.roomId, seq: messages.seq, id: messages.id })
    .from(messages)
    .where(or(...ranges))
  return { idOf: new Map(stored.map((r) => [`${r.roomId}:${r.seq}`, r.id])) }
}

type Fresh = Array<{ roomId: string; message: StoredMessage }>

async function write(tx: Transaction, parts: RoomPart[]): Promise<Fresh> {
  const { idOf } = await holdings(tx, parts)
  const clashes = new Map<string, number[]>()
  const fresh: Fresh = []
  for (const p of parts) {
    for (const m of p.batch.messages) {
      const held = idOf.get(`${p.roomId}:${m.seq}`)
      if (held === undefined) fresh.push({ roomId: p.roomId, message: m })
      else if (held !== m.id) clashes.set(p.roomId, [...(clashes.get(p.roomId) ?? []), m.seq])
    }
  }
  if (clashes.size) throw new Collisions(clashes)
  // Only what is new is written (a batch shipped again after a lost answer writes nothing).
  // INSERT IGNORE counts only the rows it inserted (an ON DUPLICATE KEY no-op counts as
  // found under mysql2's FOUND_ROWS): fewer than `fresh` means a race. IGNORE would also
  // turn a value that does not fit into a warning; every field is bounded by the ingest
  // schema to its column (StoredMessageSchema), so nothing is truncated.
  const rows = fresh.map(({ roomId, message }) => toRow(roomId, message))
  let inserted = 0
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const [result] = await tx
      .insert(messages)
      .ignore()
      .values(rows.slice(i, i + ROWS_PER_INSERT))
    inserted += (result as unknown as { affectedRows: number }).affectedRows
  }
  if (inserted !== rows.length) throw new Raced()
  await addToRollups(tx, fresh)
  for (const p of parts) {
    for (const read of p.batch.reads) {
      await tx
        .update(roomMembers)
        .set({ lastReadSeq: sql`GREATEST(${roomMembers.lastReadSeq}, ${read.seq})` })
        .where(and(eq(roomMembers.roomId, p.roomId), eq(roomMembers.userId, read.user)))
    }
  }
  return fresh
}

export interface StoreReport {
  outcomes: RoomIngestOutcome[]
  /** Rooms refused for colliding seqs, with those seqs (for the log and the 409's details). */
  collided: Map<string, number[]>
  /** The messages this shipment stored for the first time (none when it was shipped before). */
  stored: Fresh
}

/**
 * The rooms' batches into MySQL in one transaction: what is new is inserted (multi-row)
 * and added to the hourly rollups, so a batch shipped again after a lost answer changes
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
  // Each collision retry drops at least one room, and race retries are bounded: this ends.
  let raced = 0
  let stored: Fresh = []
  while (parts.length) {
    try {
      stored = await db.transaction((tx) => write(tx, parts))
      break
    } catch (err) {
      // A reship racing its original (Raced), or InnoDB's deadlock victim: run it again,
      // and it finds what the other stored.
      if ((err instanceof Raced || isDeadlock(err)) && raced < RETRIES) {
        raced += 1
        await new Promise((r) => setTimeout(r, Math.random() * 10 * raced))
        continue
      }
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
  return { outcomes: raw.map((p) => outcomes.get(p.roomId)!), collided, stored }
}
