import { and, asc, eq, isNull, sql } from 'drizzle-orm'
import { newId } from '../../shared/ids'
import { roomEventOutbox } from '../../shared/schema'
import type { Database, Transaction } from '../db'
import { postToEdge } from '../edge-client'
import type { Logger } from '../logger'

/** Events published per pass of the relay (each pass is one transaction). */
const BATCH = 20

/**
 * The transactional form of server publish: called inside an origin write's transaction,
 * the event is committed with the write or rolled back with it. The relay then publishes
 * it into the room with the row's id as idempotency key.
 */
export async function enqueueRoomEvent(
  tx: Transaction,
  event: { roomId: string; body: string },
): Promise<string> {
  const id = newId()
  await tx.insert(roomEventOutbox).values({ id, ...event, createdAt: new Date() })
  return id
}

type Outcome = { published: number } | { refused: string } | { retry: string }

/**
 * Publishes committed events into their rooms through the edge (signed with the edge's
 * secret), oldest first: each pass locks a batch of pending rows (SKIP LOCKED, so every
 * worker may run one), publishes them and marks them in the same transaction. Exactly once
 * in effect: a crash between the room's ack and the mark publishes again with the same key,
 * and the room answers with the first ack. A room that refuses for good (gone, invalid) is
 * marked and logged; an edge that is down is tried again next pass, in order.
 */
export function roomEventRelay(deps: {
  db: Database['primary']
  edgeUrl: string | undefined
  secret: string
  pollMs: number
  log: Logger
}) {
  const { db, edgeUrl, secret, log } = deps

  async function publish(row: typeof roomEventOutbox.$inferSelect): Promise<Outcome> {
    const path = `/v1/rooms/${row.roomId}/publish`
    try {
      const res = await postToEdge(edgeUrl!, secret, path, {
        idempotencyKey: row.id,
        body: row.body,
      })
      const answer = (await res.json().catch(() => null)) as { seq?: number } | null
      if (res.status === 201 && answer?.seq) return { published: answer.seq }
      // 401 is our own misconfiguration (the edge's secret differs): fixable, so kept.
      if ([400, 404, 413, 422].includes(res.status))
        return { refused: `edge answered ${res.status}` }
      return { retry: `edge answered ${res.status}` }
    } catch (err) {
      return { retry: (err as Error).message }
    }
  }

  async function pass(): Promise<number> {
    return db.transaction(async (tx) => {
      const rows = await tx
        .select()
        .from(roomEventOutbox)
        .where(isNull(roomEventOutbox.publishedAt))
        .orderBy(asc(roomEventOutbox.createdAt), asc(roomEventOutbox.id))
        .limit(BATCH)
        .for('update', { skipLocked: true })
      let published = 0
      for (const row of rows) {
        const outcome = await publish(row)
        const mark = (set: { publishedAt?: Date; seq?: number }) =>
          tx
            .update(roomEventOutbox)
            .set({ ...set, attempts: sql`${roomEventOutbox.attempts} + 1` })
            .where(and(eq(roomEventOutbox.roomId, row.roomId), eq(roomEventOutbox.id, row.id)))
        if ('published' in outcome) {
          await mark({ publishedAt: new Date(), seq: outcome.published })
          published++
        } else if ('refused' in outcome) {
          log.error(
            { eventId: row.id, roomId: row.roomId, reason: outcome.refused },
            'room event refused; not retried',
          )
          await mark({ publishedAt: new Date() })
        } else {
          log.warn(
            { eventId: row.id, roomId: row.roomId, reason: outcome.retry },
            'room event not published yet; retrying',
          )
          await mark({})
          break
        }
      }
      return published
    })
  }

  let running: Promise<unknown> | null = null
  let again = false
  /** Runs a pass now, or once more right after the one running (a commit just queued something). */
  function kick(): void {
    if (!edgeUrl) return
    if (running) {
      again = true
      return
    }
    running = pass()
      .catch((err: Error) => log.warn({ err: err.message }, 'room event relay pass failed'))
      .finally(() => {
        running = null
        if (again) {
          again = false
          kick()
        }
      })
  }
  if (edgeUrl) setInterval(kick, deps.pollMs).unref()
  else log.warn('EDGE_URL is not set: room events wait in room_event_outbox until it is')
  return { kick, pass }
}
