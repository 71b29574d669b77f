import { sql } from 'drizzle-orm'
import type { StoredMessage } from '../../shared/message'
import { roomHourAuthors, roomHourStats } from '../../shared/schema'
import type { Transaction } from '../db'

const HOUR_MS = 3_600_000

/** The UTC hour a message belongs to (when its room accepted it). */
export const hourOf = (createdAt: number) => new Date(Math.floor(createdAt / HOUR_MS) * HOUR_MS)

/**
 * Adds messages that were just stored for the first time to the per-room, per-hour
 * rollups, inside the ingest's transaction: messages counted up, per author too, and the
 * hour's distinct authors counted up by how many of them were new there. Only new messages come
 * here, and the ingest's locked read serializes shipments of one room, so a batch
 * shipped twice adds nothing and the distinct count never drifts.
 */
export async function addToRollups(
  tx: Transaction,
  fresh: Array<{ roomId: string; message: StoredMessage }>,
): Promise<void> {
  if (!fresh.length) return
  const buckets = new Map<
    string,
    { roomId: string; hour: Date; messages: number; authors: Map<string, number> }
  >()
  for (const { roomId, message } of fresh) {
    const hour = hourOf(message.createdAt)
    const key = `${roomId}:${hour.getTime()}`
    const bucket = buckets.get(key) ?? { roomId, hour, messages: 0, authors: new Map() }
    bucket.messages += 1
    bucket.authors.set(message.author, (bucket.authors.get(message.author) ?? 0) + 1)
    buckets.set(key, bucket)
  }
  const all = [...buckets.values()]
  // Per bucket, each author's messages counted up. MySQL reports 1 affected row per insert
  // and 2 per update (an increment always changes the row), so rows × 2 − affected is how
  // many authors were new to the bucket: the distinct count, without a read.
  const newAuthors = await Promise.all(
    all.map(async (b) => {
      const [result] = await tx
        .insert(roomHourAuthors)
        .values(
          [...b.authors].map(([authorId, messages]) => ({
            roomId: b.roomId,
            hour: b.hour,
            authorId,
            messages,
          })),
        )
        .onDuplicateKeyUpdate({
          set: { messages: sql`${roomHourAuthors.messages} + values(${roomHourAuthors.messages})` },
        })
      const affected = (result as unknown as { affectedRows: number }).affectedRows
      return b.authors.size * 2 - affected
    }),
  )
  await tx
    .insert(roomHourStats)
    .values(
      all.map((b, i) => ({
        roomId: b.roomId,
        hour: b.hour,
        messages: b.messages,
        authors: newAuthors[i]!,
      })),
    )
    .onDuplicateKeyUpdate({
      set: {
        messages: sql`${roomHourStats.messages} + values(${roomHourStats.messages})`,
        authors: sql`${roomHourStats.authors} + values(${roomHourStats.authors})`,
      },
    })
}
