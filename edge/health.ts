import { Client } from '@planetscale/database'
import { Redis } from '@upstash/redis/cloudflare'
import type { Handler } from 'hono'
import type { EdgeConfig } from '../shared/config'
import type { AppEnv } from './env'
import { rateLimitStats } from './middleware/ratelimit'

type PartStatus = { status: 'up' | 'down'; latencyMs: number; error?: string }
type Details = Record<string, unknown> | undefined

async function probe(
  timeoutMs: number,
  fn: (signal: AbortSignal) => Promise<Details>,
): Promise<PartStatus> {
  const started = Date.now()
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    const details = await fn(signal)
    return { status: 'up', latencyMs: Date.now() - started, ...details }
  } catch (err) {
    const error = signal.aborted
      ? `no answer within ${timeoutMs} ms`
      : err instanceof Error
        ? err.message
        : String(err)
    return { status: 'down', latencyMs: Date.now() - started, error }
  }
}

const probes = {
  // The origin is up when it answers; its own view of MariaDB and Redis (its /ready) rides along.
  origin: async (config: EdgeConfig, signal: AbortSignal) => {
    const res = await fetch(new URL('/ready', config.ORIGIN_URL), { signal })
    if (res.status !== 200 && res.status !== 503) throw new Error(`origin answered ${res.status}`)
    const ready = (await res.json()) as { parts?: unknown }
    return { dependencies: ready.parts }
  },
  database: async (config: EdgeConfig, signal: AbortSignal) => {
    const client = new Client({
      url: config.DATABASE_READ_URL,
      fetch: (input, init) => fetch(input, { ...init, signal }),
    })
    await client.execute('SELECT 1')
    return undefined
  },
  redis: async (config: EdgeConfig, signal: AbortSignal) => {
    const redis = new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      retry: false,
      signal: () => signal,
    })
    const pong = await redis.ping()
    if (pong !== 'PONG') throw new Error(`unexpected PING reply ${String(pong)}`)
    return undefined
  },
}

/** `GET /health`: the edge and each part it depends on; 503 when any is down. */
export function health(): Handler<AppEnv> {
  return async (c) => {
    const config = c.var.config
    const timeout = config.HEALTH_TIMEOUT_MS
    const [origin, database, redis] = await Promise.all([
      probe(timeout, (s) => probes.origin(config, s)),
      probe(timeout, (s) => probes.database(config, s)),
      probe(timeout, (s) => probes.redis(config, s)),
    ])
    const edge = { status: 'up' as const, rateLimitFailOpen: rateLimitStats.failOpen }
    const parts = { edge, origin, database, redis }
    const allUp = origin.status === 'up' && database.status === 'up' && redis.status === 'up'
    c.header('Cache-Control', 'no-store')
    return c.json({ status: allUp ? 'ok' : 'degraded', parts }, allUp ? 200 : 503)
  }
}
