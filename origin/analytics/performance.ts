import type { MiddlewareHandler } from 'hono'
import { routePath } from 'hono/route'
import type { Redis } from 'ioredis'
import { cacheKeys } from '../../shared/cache-keys'
import type { OriginEnv } from '../env'
import { replies } from '../redis-replies'

/** Upper bounds of the latency buckets, ms (beyond the last: slower). */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
const MINUTE_MS = 60_000
/** Minutes are kept a day and an hour: enough for period=24h. */
const KEEP_SECONDS = 25 * 3_600
/** Probes are not the product's traffic. */
const UNCOUNTED = new Set(['/health', '/ready'])

const bucketOf = (ms: number) => {
  const i = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound)
  return i === -1 ? LATENCY_BOUNDS_MS.length : i
}

/**
 * The origin's own record of latency and errors per route, for the performance dashboard:
 * each worker counts its requests per minute in memory and adds them to one Redis hash per
 * minute (field `METHOD route|n`, `|4xx`, `|5xx`, `|b<bucket>`) every PERFORMANCE_FLUSH_MS,
 * so every worker and every origin instance reads the same figures. Prometheus has the
 * same histograms (http_request_duration_seconds); this is what the API can answer from.
 */
export function performanceRecorder(redis: Redis, flushMs: number) {
  let pending = new Map<number, Map<string, number>>()
  const count = (minute: number, field: string) => {
    const fields = pending.get(minute) ?? new Map<string, number>()
    fields.set(field, (fields.get(field) ?? 0) + 1)
    pending.set(minute, fields)
  }

  async function flush(): Promise<void> {
    if (!pending.size) return
    const taken = pending
    pending = new Map()
    const pipeline = redis.pipeline()
    for (const [minute, fields] of taken) {
      const key = cacheKeys.performance(minute)
      for (const [field, n] of fields) pipeline.hincrby(key, field, n)
      pipeline.expire(key, KEEP_SECONDS)
    }
    // Redis down: these minutes are lost to the dashboard (Prometheus still has them).
    await pipeline.exec().catch(() => {})
  }
  const timer = setInterval(() => void flush(), flushMs)
  timer.unref()

  const middleware: MiddlewareHandler<OriginEnv> = async (c, next) => {
    const started = performance.now()
    await next()
    const template = routePath(c, -1)
    if (UNCOUNTED.has(template) || template.includes('*')) return
    const route = `${c.req.method} ${template}`
    const minute = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS
    const status = c.res.status
    count(minute, `${route}|n`)
    if (status >= 500) count(minute, `${route}|5xx`)
    else if (status >= 400) count(minute, `${route}|4xx`)
    count(minute, `${route}|b${bucketOf(performance.now() - started)}`)
  }
  return { middleware, flush, stop: () => clearInterval(timer) }
}

/** The q-quantile of a bucketed count, linear within its bucket (as Prometheus's histogram_quantile). */
export function quantile(buckets: number[], total: number, q: number): number {
  const target = q * total
  let seen = 0
  for (let i = 0; i < buckets.length; i++) {
    const inBucket = buckets[i] ?? 0
    if (seen + inBucket >= target && inBucket > 0) {
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!
      const upper = LATENCY_BOUNDS_MS[i] ?? lower
      return Math.round((lower + ((upper - lower) * (target - seen)) / inBucket) * 10) / 10
    }
    seen += inBucket
  }
  return LATENCY_BOUNDS_MS.at(-1)!
}

export interface RoutePerformance {
  route: string
  requests: number
  clientErrors: number
  serverErrors: number
  errorRate: number
  p50Ms: number
  p95Ms: number
  p99Ms: number
}

/** The last `minutes` minutes summed per route, busiest first. */
export async function readPerformance(
  redis: Redis,
  minutes: number,
  now = Date.now(),
): Promise<RoutePerformance[]> {
  const last = Math.floor(now / MINUTE_MS) * MINUTE_MS
  const pipeline = redis.pipeline()
  for (let i = 0; i < minutes; i++) pipeline.hgetall(cacheKeys.performance(last - i * MINUTE_MS))
  const sums = new Map<string, { n: number; c4: number; c5: number; buckets: number[] }>()
  for (const hash of await replies(pipeline)) {
    for (const [field, value] of Object.entries(hash as Record<string, string>)) {
      const cut = field.lastIndexOf('|')
      const [route, part] = [field.slice(0, cut), field.slice(cut + 1)]
      const sum = sums.get(route) ?? {
        n: 0,
        c4: 0,
        c5: 0,
        buckets: LATENCY_BOUNDS_MS.map(() => 0).concat(0),
      }
      const n = Number(value)
      if (part === 'n') sum.n += n
      else if (part === '4xx') sum.c4 += n
      else if (part === '5xx') sum.c5 += n
      else sum.buckets[Number(part.slice(1))]! += n
      sums.set(route, sum)
    }
  }
  return [...sums]
    .map(([route, s]) => ({
      route,
      requests: s.n,
      clientErrors: s.c4,
      serverErrors: s.c5,
      errorRate: s.n ? Math.round((s.c5 / s.n) * 10_000) / 10_000 : 0,
      p50Ms: quantile(s.buckets, s.n, 0.5),
      p95Ms: quantile(s.buckets, s.n, 0.95),
      p99Ms: quantile(s.buckets, s.n, 0.99),
    }))
    .sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route))
}
