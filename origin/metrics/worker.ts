import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  register,
} from 'prom-client'
import type { OriginEnv } from '../env'

/**
 * A worker's metrics, in prom-client's global registry: the cluster primary collects every
 * worker's over IPC and sums them (AggregatorRegistry), so one scrape is the whole cluster.
 * Names are the seeds' (seed 002: http_request_duration_seconds, http_requests_total,
 * batch_operations_total; seed 001: the database pool).
 */
collectDefaultMetrics({ register })
// prom-client's worker side answers the primary's IPC requests (with the global registry)
// only once an AggregatorRegistry has been constructed in the worker.
export const workerAggregator = new AggregatorRegistry()

const httpRequests = new Counter({
  name: 'http_requests_total',
  help: 'Requests the origin answered, by method, route template and status',
  labelNames: ['method', 'route', 'status'] as const,
})
const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time to answer, by method, route template and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
})
export const batchOperations = new Counter({
  name: 'batch_operations_total',
  help: 'Batches stored: relay shipments (many rooms each) and single-room batches',
  labelNames: ['operation'] as const,
})
export const ingestRows = new Counter({
  name: 'plaza_ingest_rows_total',
  help: 'Messages and read markers written by the ingest',
  labelNames: ['kind'] as const,
})
// Every series from the first scrape (a dashboard's query on a label not yet seen finds nothing).
for (const kind of ['messages', 'reads']) ingestRows.inc({ kind }, 0)
for (const operation of ['relay_shipment', 'room_batch']) batchOperations.inc({ operation }, 0)

export const ingestRefused = new Counter({
  name: 'plaza_ingest_refused_rooms_total',
  help: 'Rooms a shipment carried that the ingest refused (invalid or colliding seqs)',
})
export const rankingFailures = new Counter({
  name: 'plaza_ranking_failures_total',
  help: 'Shipments whose messages could not be added to the rankings in Redis (rebuild recounts them)',
})

export const redisErrors = new Counter({
  name: 'plaza_redis_errors_total',
  help: "Errors on the origin's Redis connection",
})

/** Counts and times every request by its route template (never the raw path: bounded labels). */
export function requestMetrics(): MiddlewareHandler<OriginEnv> {
  return async (c, next) => {
    const stop = httpDuration.startTimer()
    await next()
    const template = routePath(c, -1)
    const labels = {
      method: c.req.method,
      route: template.includes('*') ? 'unmatched' : template,
      status: String(c.res.status),
    }
    httpRequests.inc(labels)
    stop(labels)
  }
}

/** The mysql2 pool's connections in use, idle and waiting, read at each scrape. */
export function poolMetrics(stats: () => { inUse: number; idle: number; waiting: number }): void {
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections by state (in_use, idle, waiting requests)',
    labelNames: ['state'] as const,
    collect() {
      const s = stats()
      this.set({ state: 'in_use' }, s.inUse)
      this.set({ state: 'idle' }, s.idle)
      this.set({ state: 'waiting' }, s.waiting)
    },
  })
}
