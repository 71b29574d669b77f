import { Client } from '@planetscale/database'
import { Redis } from '@upstash/redis/cloudflare'
import type { Handler } from 'hono'
import type { EdgeConfig } from '../shared/config'
import type { AppEnv } from './env'

type PartStatus = { status: 'up' | 'down'; latencyMs: number; error?: string }

async function probe(
  timeoutMs: number,
  fn: (signal: AbortSignal) => Promise<unknown>,
): Promise<PartStatus> {
  const started = Date.now()
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    await fn(signal)
    return { status: 'up', latencyMs: Date.now() - started }
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
  origin: (config: EdgeConfig, signal: AbortSignal) =>
    fetch(new URL('/health', config.ORIGIN_URL), { signal }).then((res) => {
      if (!res.ok) throw new Error(`origin answered ${res.status}`)
    }),
  database: (config: EdgeConfig, signal: AbortSignal) =>
    new Client({
      url: config.DATABASE_READ_URL,
      fetch: (input, init) => fetch(input, { ...init, signal }),
    }).execute('SELECT 1'),
  redis: async (config: EdgeConfig, signal: AbortSignal) => {
    const redis = new Redis({
      url: config.UPSTASH_REDIS_REST_URL,
      token: config.UPSTASH_REDIS_REST_TOKEN,
      retry: false,
      signal: () => signal,
    })
    const pong = await redis.ping()
    if (pong !== 'PONG') throw new Error(`unexpected PING reply ${String(pong)}`)
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
    const parts = { edge: { status: 'up' as const }, origin, database, redis }
    const allUp = origin.status === 'up' && database.status === 'up' && redis.status === 'up'
    c.header('Cache-Control', 'no-store')
    return c.json({ status: allUp ? 'ok' : 'degraded', parts }, allUp ? 200 : 503)
  }
}
