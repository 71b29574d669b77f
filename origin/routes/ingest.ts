import { eq, max } from 'drizzle-orm'
import { Hono } from 'hono'
import type { Redis } from 'ioredis'
import { ApiError, validationError } from '../../shared/errors'
import {
  INGEST_MAX_ITEMS,
  IngestBody,
  type RelayIngestAnswer,
  RelayIngestBody,
} from '../../shared/internal/ingest'
import { messages } from '../../shared/schema'
import type { liveFeed } from '../analytics/live-feed'
import { addToRankings } from '../analytics/rankings'
import type { Database } from '../db'
import type { OriginEnv } from '../env'
import { type StoreReport, storeBatches } from '../ingest/store'
import { batchOperations, ingestRefused, ingestRows, rankingFailures } from '../metrics/worker'

/** What a shipment adds to the metrics (rows as sent; a refused room's are not written). */
function counted(operation: string, parts: Array<{ batch: unknown }>, refused: number): void {
  batchOperations.inc({ operation })
  for (const { batch } of parts) {
    const b = batch as { messages?: unknown[]; reads?: unknown[] } | null
    ingestRows.inc({ kind: 'messages' }, b?.messages?.length ?? 0)
    ingestRows.inc({ kind: 'reads' }, b?.reads?.length ?? 0)
  }
  if (refused) ingestRefused.inc(refused)
}

/** Messages and read markers of all the rooms of a relay's shipment, counted apart. */
function withinBound(parts: Array<{ batch: unknown }>): boolean {
  let messages = 0
  let reads = 0
  for (const { batch } of parts) {
    const b = batch as { messages?: unknown; reads?: unknown } | null
    if (Array.isArray(b?.messages)) messages += b.messages.length
    if (Array.isArray(b?.reads)) reads += b.reads.length
  }
  return messages <= INGEST_MAX_ITEMS && reads <= INGEST_MAX_ITEMS
}

/** A room that numbered twice (its storage was lost) is an operator's problem: say so loudly. */
function logCollisions(log: OriginEnv['Variables']['log'], collided: Map<string, number[]>): void {
  for (const [roomId, seqs] of collided) {
    log.error({ roomId, seqs: seqs.slice(0, 20), count: seqs.length }, 'ingest: seq collision')
  }
}

/**
 * Where acked messages reach MySQL (signed edge calls only): the relays' shipments, many
 * rooms per request, and one room's batch on its own. Idempotent: a shipment sent again
 * after a lost answer changes nothing.
 */
export function ingestRoutes({
  db,
  redis,
  live,
}: {
  db: Database['primary']
  redis: Redis
  live: Pick<ReturnType<typeof liveFeed>, 'record' | 'changed'>
}) {
  const app = new Hono<OriginEnv>()
  /**
   * What a stored shipment adds beyond MySQL: the rankings and the live dashboard's counts
   * (a Redis failure is logged, not fatal: the messages are stored).
   */
  const afterStore = async (log: OriginEnv['Variables']['log'], report: StoreReport) => {
    if (!report.stored.length) return
    // Independent: one failing does not keep the other from being counted.
    const [ranked, counted] = await Promise.allSettled([
      addToRankings(db, redis, report.stored),
      live.record(report.stored),
    ])
    const messages = report.stored.length
    if (ranked.status === 'rejected') {
      rankingFailures.inc()
      log.warn(
        { err: (ranked.reason as Error).message, messages },
        'rankings not updated (npm run rankings:rebuild recounts them)',
      )
    }
    if (counted.status === 'rejected') {
      log.warn({ err: (counted.reason as Error).message, messages }, 'live dashboard not counted')
    } else live.changed()
  }
  app.post('/internal/ingest', async (c) => {
    const parsed = RelayIngestBody.safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) throw validationError(parsed.error.issues, 'unprocessable')
    const rooms = parsed.data.rooms
    if (new Set(rooms.map((r) => r.roomId)).size !== rooms.length) {
      throw new ApiError('unprocessable', 'Each room may appear once per shipment')
    }
    if (!withinBound(rooms)) {
      throw new ApiError(
        'payload_too_large',
        `At most ${INGEST_MAX_ITEMS} messages and read markers per shipment`,
      )
    }
    const report = await storeBatches(db, rooms)
    const { outcomes, collided } = report
    logCollisions(c.var.log, collided)
    await afterStore(c.var.log, report)
    const refused = Object.values(outcomes).filter(
      (o) => (o as { status?: number }).status !== 200,
    ).length
    counted('relay_shipment', rooms, refused)
    return c.json({ rooms: outcomes } satisfies RelayIngestAnswer)
  })
  // Read from the primary: a replica's lag could hand a room a seq already taken.
  app.get('/internal/rooms/:id/stored-seq', async (c) => {
    const [row] = await db
      .select({ seq: max(messages.seq) })
      .from(messages)
      .where(eq(messages.roomId, c.req.param('id')))
    return c.json({ seq: Number(row?.seq ?? 0) })
  })
  app.post('/internal/rooms/:id/ingest', async (c) => {
    const roomId = c.req.param('id')
    const parsed = IngestBody.safeParse(await c.req.json().catch(() => null))
    if (!parsed.success) throw validationError(parsed.error.issues, 'unprocessable')
    const report = await storeBatches(db, [{ roomId, batch: parsed.data }])
    const { collided } = report
    logCollisions(c.var.log, collided)
    await afterStore(c.var.log, report)
    counted('room_batch', [{ batch: parsed.data }], collided.size)
    const seqs = collided.get(roomId)
    if (seqs) {
      throw new ApiError('conflict', 'These seqs are already stored with other messages', {
        details: { seqs: seqs.slice(0, 100) },
      })
    }
    return c.json({ stored: parsed.data.messages.length, reads: parsed.data.reads.length })
  })
  return app
}
