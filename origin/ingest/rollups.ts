import { and, inArray, sql } from 'drizzle-orm'
import type { StoredMessage } from '../../shared/message'
import { roomHourAuthors, roomHourStats } from '../../shared/schema'
import type { Transaction } from '../db'

const HOUR_MS = 3_600_000

/** The UTC hour a message belongs to (when its room accepted it). */
export const hourOf = (createdAt: number) => new Date(Math.floor(createdAt / HOUR_MS) * HOUR_MS)

type Bucket = { roomId: string; hour: Date; messages: number; authors: Map<string, number> }

/** Author rows per upsert statement (a shipment carries at most INGEST_MAX_ITEMS messages). */
const AUTHOR_ROWS_PER_UPSERT = 1_000

const authorKey = (roomId: string, hour: Date, authorId: string) =>
  `${roomId}:${hour.getTime()}:${authorId}`

/**
 * Adds messages that were just stored for the first time to the per-room, per-hour
 * rollups, inside the ingest's transaction: messages counted up, per author too, and the
 * hour's distinct authors counted up by how many of them were new there. Only new
 * messages come here (the ingest's race check), so a batch shipped twice adds nothing.
 *
 * A constant number of statements whatever the number of rooms in the shipment (a
 * shipment of 500 small rooms once cost 500): the author rows are upserted in key order
 * (two shipments lock them in the same order), then read back. An author was new to an
 * hour exactly when their row now holds only this shipment's count: the upsert locked the
 * row, and a row another shipment wrote first holds its count too. A read before the
 * upsert could not tell: two shipments of one room and hour could both find an author
 * missing and count them twice.
 */
export async function addToRollups(
  tx: Transaction,
  fresh: Array<{ roomId: string; message: StoredMessage }>,
): Promise<void> {
  if (!fresh.length) return
  const all = bucketsOf(fresh)
  const rows = all
    .flatMap((b) =>
      [...b.authors].map(([authorId, messages]) => ({
        roomId: b.roomId,
        hour: b.hour,
        authorId,
        messages,
      })),
    )
    .sort((x, y) =>
      compareKeys(authorKey(x.roomId, x.hour, x.authorId), authorKey(y.roomId, y.hour, y.authorId)),
    )
  for (let i = 0; i < rows.length; i += AUTHOR_ROWS_PER_UPSERT) {
    await tx
      .insert(roomHourAuthors)
      .values(rows.slice(i, i + AUTHOR_ROWS_PER_UPSERT))
      .onDuplicateKeyUpdate({
        set: { messages: sql`${roomHourAuthors.messages} + values(${roomHourAuthors.messages})` },
      })
  }
  const held = await authorCounts(tx, all)
  await tx
    .insert(roomHourStats)
    .values(
      all.map((b) => ({
        roomId: b.roomId,
        hour: b.hour,
        messages: b.messages,
        authors: [...b.authors].filter(([a, n]) => held.get(authorKey(b.roomId, b.hour, a)) === n)
          .length,
      })),
    )
    .onDuplicateKeyUpdate({
      set: {
        messages: sql`${roomHourStats.messages} + values(${roomHourStats.messages})`,
        authors: sql`${roomHourStats.authors} + values(${roomHourStats.authors})`,
      },
    })
}

const compareKeys = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0)

/** The fresh messages by room and hour, each author's count kept. */
function bucketsOf(fresh: Array<{ roomId: string; message: StoredMessage }>): Bucket[] {
  const buckets = new Map<string, Bucket>()
  for (const { roomId, message } of fresh) {
    const hour = hourOf(message.createdAt)
    const key = `${roomId}:${hour.getTime()}`
    const bucket = buckets.get(key) ?? { roomId, hour, messages: 0, authors: new Map() }
    bucket.messages += 1
    bucket.authors.set(message.author, (bucket.authors.get(message.author) ?? 0) + 1)
    buckets.set(key, bucket)
  }
  return [...buckets.values()]
}

/** Each of the buckets' authors' count as their rows now hold it (this transaction's view). */
async function authorCounts(tx: Transaction, all: Bucket[]): Promise<Map<string, number>> {
  const rooms = [...new Set(all.map((b) => b.roomId))]
  const hours = [...new Set(all.map((b) => b.hour.getTime()))].map((t) => new Date(t))
  const authors = [...new Set(all.flatMap((b) => [...b.authors.keys()]))]
  const found = await tx
    .select({
      roomId: roomHourAuthors.roomId,
      hour: roomHourAuthors.hour,
      authorId: roomHourAuthors.authorId,
      messages: roomHourAuthors.messages,
    })
    .from(roomHourAuthors)
    .where(
      and(
        inArray(roomHourAuthors.roomId, rooms),
        inArray(roomHourAuthors.hour, hours),
        inArray(roomHourAuthors.authorId, authors),
      ),
    )
  return new Map(found.map((r) => [authorKey(r.roomId, r.hour, r.authorId), r.messages]))
}
