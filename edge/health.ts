import type { Handler } from 'hono'
import type { EdgeConfig } from '../shared/config'
import { verifyRequest } from '../shared/internal/signature'
import { breakerReport } from './breakers'
import { healthClients } from './clients'
import type { ConfigVariables } from './middleware/config'
import { rateLimitStats } from './ratelimit/fallback'

type PartStatus = { status: 'up' | 'down'; latencyMs: number; error?: string }
type Details = Record<string, unknown> | undefined
interface Report {
  up: boolean
  parts: { origin: PartStatus; database: PartStatus; redis: PartStatus }
}

/** How long one round of probes answers every /health call of an isolate. */
const PROBE_CACHE_MS = 2_000

async function probe(timeoutMs: number, fn: () => Promise<Details>): Promise<PartStatus> {
  const started = Date.now()
  try {
    const details = await fn()
    return { status: 'up', latencyMs: Date.now() - started, ...details }
  } catch (err) {
    const latencyMs = Date.now() - started
    const timedOut = (err as Error)?.name === 'TimeoutError' || latencyMs >= timeoutMs
    const error = timedOut
      ? `no answer within ${timeoutMs} ms`
      : err instanceof Error
        ? err.message
        : String(err)
    return { status: 'down', latencyMs, error }
  }
}

async function probeAll(config: EdgeConfig): Promise<Report> {
  const timeout = config.HEALTH_TIMEOUT_MS
  const { redis, database } = healthClients(config)
  const [origin, db, cache] = await Promise.all([
    // The origin is up when it answers; its own view of MariaDB and Redis (its /ready) rides along.
    probe(timeout, async () => {
      const res = await fetch(new URL('/ready', config.ORIGIN_URL), {
        signal: AbortSignal.timeout(timeout),
      })
      if (res.status !== 200 && res.status !== 503) throw new Error(`origin answered ${res.status}`)
      return { dependencies: ((await res.json()) as { parts?: unknown }).parts }
    }),
    probe(timeout, async () => {
      await database.execute('SELECT 1')
      return undefined
    }),
    probe(timeout, async () => {
      const pong = await redis.ping()
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${String(pong)}`)
      return undefined
    }),
  ])
  const up = origin.status === 'up' && db.status === 'up' && cache.status === 'up'
  return { up, parts: { origin, database: db, redis: cache } }
}

/** One round of probes per isolate per PROBE_CACHE_MS, shared by every caller in that time. */
const recent = new WeakMap<EdgeConfig, { at: number; report: Promise<Report> }>()
function report(config: EdgeConfig): Promise<Report> {
  const cached = recent.get(config)
  if (cached && Date.now() - cached.at < PROBE_CACHE_MS) return cached.report
  const fresh = { at: Date.now(), report: probeAll(config) }
  recent.set(config, fresh)
  return fresh.report
}

/**
 * `GET /health`: 200 when the edge and every part it depends on answer, 503 when any does
 * not. Anyone (a load balancer) gets `{status}`; the parts, their latencies and errors —
 * internal addresses among them — only go to a caller that signs the request like the
 * edge signs its calls to the origin (operators, the tests). Probes are shared for a
 * couple of seconds, so a flood of calls costs the backends nothing more.
 */
export function health(): Handler<{ Variables: ConfigVariables }> {
  return async (c) => {
    const config = c.get('config')
    const { up, parts } = await report(config)
    c.header('Cache-Control', 'no-store')
    const status = up ? 'ok' : 'degraded'
    const verdict = await verifyRequest(
      [config.EDGE_SIGNING_SECRET],
      {
        method: 'GET',
        pathWithQuery: '/health',
        headers: c.req.raw.headers,
        body: new Uint8Array(),
      },
      { windowMs: 30_000 },
    )
    if (!verdict.ok) return c.json({ status }, up ? 200 : 503)
    const edge = {
      status: 'up' as const,
      rateLimitFailOpen: rateLimitStats.failOpen,
      // This isolate's circuit breakers (the probes above bypass them: they test, not use).
      breakers: await breakerReport(config),
    }
    return c.json({ status, parts: { edge, ...parts } }, up ? 200 : 503)
  }
}
