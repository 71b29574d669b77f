import { and, eq, sql } from 'drizzle-orm'
import type { StoredMessage } from '../../shared/message'
import { roomHourAuthors, roomHourStats } from '../../shared/schema'
import type { Transaction } from '../db'

const HOUR_MS = 3_600_000

/** The UTC hour a message belongs to (when its room accepted it). */
export const hourOf = (createdAt: number) => new Date(Math.floor(createdAt / HOUR_MS) * HOUR_MS)

/**
 * Adds messages that were just stored for the first time to the per-room, per-hour
 * rollups, inside the ingest's transaction: messages counted up, authors recorded and
 * then counted as they are (so a distinct count never drifts). Only new messages come
 * here, so a batch shipped twice adds nothing.
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
  await tx
    .insert(roomHourAuthors)
    .ignore()
    .values(
      all.flatMap((b) =>
        [...b.authors].map((authorId) => ({ roomId: b.roomId, hour: b.hour, authorId })),
      ),
    )
  await tx
    .insert(roomHourStats)
    .values(all.map((b) => ({ roomId: b.roomId, hour: b.hour, messages: b.messages, authors: 0 })))
    .onDuplicateKeyUpdate({
      set: { messages: sql`${roomHourStats.messages} + values(${roomHourStats.messages})` },
    })
  for (const b of all) {
    const authors = tx
      .select({ n: sql`count(*)` })
      .from(roomHourAuthors)
      .where(and(eq(roomHourAuthors.roomId, b.roomId), eq(roomHourAuthors.hour, b.hour)))
    await tx
      .update(roomHourStats)
      .set({ authors: sql`(${authors})` })
      .where(and(eq(roomHourStats.roomId, b.roomId), eq(roomHourStats.hour, b.hour)))
  }
}
