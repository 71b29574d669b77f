import type { Handler } from 'hono'
import { healthClients } from './clients'
import type { ConfigVariables } from './middleware/config'
import { rateLimitStats } from './ratelimit/fallback'

type PartStatus = { status: 'up' | 'down'; latencyMs: number; error?: string }
type Details = Record<string, unknown> | undefined

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

/** `GET /health`: the edge and each part it depends on; 503 when any is down. */
export function health(): Handler<{ Variables: ConfigVariables }> {
  return async (c) => {
    const config = c.var.config
    const timeout = config.HEALTH_TIMEOUT_MS
    const { redis, database } = healthClients(config)
    const [origin, db, cache] = await Promise.all([
      // The origin is up when it answers; its own view of MariaDB and Redis (its /ready) rides along.
      probe(timeout, async () => {
        const res = await fetch(new URL('/ready', config.ORIGIN_URL), {
          signal: AbortSignal.timeout(timeout),
        })
        if (res.status !== 200 && res.status !== 503)
          throw new Error(`origin answered ${res.status}`)
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
    const edge = { status: 'up' as const, rateLimitFailOpen: rateLimitStats.failOpen }
    const up = origin.status === 'up' && db.status === 'up' && cache.status === 'up'
    c.header('Cache-Control', 'no-store')
    return c.json(
      { status: up ? 'ok' : 'degraded', parts: { edge, origin, database: db, redis: cache } },
      up ? 200 : 503,
    )
  }
}
