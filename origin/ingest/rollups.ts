import { sql } from 'drizzle-orm'
import type { StoredMessage } from '../../shared/message'
import { roomHourAuthors, roomHourStats } from '../../shared/schema'
import type { Transaction } from '../db'

const HOUR_MS = 3_600_000

/** The UTC hour a message belongs to (when its room accepted it). */
export const hourOf = (createdAt: number) => new Date(Math.floor(createdAt / HOUR_MS) * HOUR_MS)

/**
 * Adds messages that were just stored for the first time to the per-room, per-hour
 * rollups, inside the ingest's transaction: messages counted up, authors recorded once
 * per hour and counted up by how many of them were new there. Only new messages come
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
    { roomId: string; hour: Date; messages: number; authors: Set<string> }
  >()
  for (const { roomId, message } of fresh) {
    const hour = hourOf(message.createdAt)
    const key = `${roomId}:${hour.getTime()}`
    const bucket = buckets.get(key) ?? { roomId, hour, messages: 0, authors: new Set<string>() }
    bucket.messages += 1
    bucket.authors.add(message.author)
    buckets.set(key, bucket)
  }
  const all = [...buckets.values()]
  // Per bucket, the authors not yet recorded for it: INSERT IGNORE says how many were new.
  const newAuthors = await Promise.all(
    all.map(async (b) => {
      const [result] = await tx
        .insert(roomHourAuthors)
        .ignore()
        .values([...b.authors].map((authorId) => ({ roomId: b.roomId, hour: b.hour, authorId })))
      return (result as unknown as { affectedRows: number }).affectedRows
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
