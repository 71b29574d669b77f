import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import type { Redis } from 'ioredis'
import type { OriginConfig } from '../shared/config'
import { notFound, onError } from '../shared/http'
import { csvExports } from './analytics/export'
import { liveFeed } from './analytics/live-feed'
import { performanceRecorder } from './analytics/performance'
import { tokenIssuer } from './auth/tokens'
import type { Database } from './db'
import type { OriginEnv } from './env'
import { roomEventRelay } from './events/outbox'
import { cacheInvalidator } from './invalidation'
import type { Logger } from './logger'
import { requestMetrics } from './metrics/worker'
import { jsonBody } from './middleware/json-body'
import { edgeSignature } from './middleware/signature'
import { replayGuard } from './replay-guard'
import { accountRoutes } from './routes/accounts'
import { dashboardRoutes } from './routes/dashboard'
import { ingestRoutes } from './routes/ingest'
import { profileRoutes } from './routes/profiles'
import { roomRoutes } from './routes/rooms'

export interface OriginDeps {
  config: OriginConfig
  logger: Logger
  database: Database
  redis: Redis
  /** Each resolves when its dependency answers; /ready reports every one. */
  checks: Record<'database' | 'redis', () => Promise<unknown>>
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function createApp({ config, logger, checks, database, redis }: OriginDeps) {
  const app = new Hono<OriginEnv>()
  const secrets = [config.EDGE_SIGNING_SECRET, config.EDGE_SIGNING_SECRET_PREVIOUS].filter(
    (s): s is string => !!s,
  )

  app.use(requestMetrics())
  const latencies = performanceRecorder(redis, config.PERFORMANCE_FLUSH_MS)
  app.use(latencies.middleware)
  app.use(requestId())
  app.use(async (c, next) => {
    const started = performance.now()
    const log = logger.child({ reqId: c.var.requestId })
    c.set('log', log)
    await next()
    const ms = Math.round((performance.now() - started) * 10) / 10
    log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms }, 'request')
  })

  // Liveness: the process answers. Never touches a dependency, so a database outage
  // does not get healthy workers restarted.
  app.get('/health', (c) =>
    c.json({ status: 'ok', pid: process.pid, uptimeSeconds: Math.round(process.uptime()) }),
  )

  // Readiness: every dependency answers; a load balancer stops routing here when not.
  app.get('/ready', async (c) => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        const started = performance.now()
        try {
          await withTimeout(check(), config.READY_TIMEOUT_MS)
          return [
            name,
            { status: 'up', latencyMs: Math.round(performance.now() - started) },
          ] as const
        } catch (err) {
          return [
            name,
            { status: 'down', error: err instanceof Error ? err.message : String(err) },
          ] as const
        }
      }),
    )
    const parts = Object.fromEntries(entries)
    const down = entries.filter(([, part]) => part.status === 'down').map(([name]) => name)
    return c.json(
      { status: down.length ? 'unavailable' : 'ready', down, parts },
      down.length ? 503 : 200,
    )
  })

  const windowMs = config.SIGNATURE_WINDOW_SECONDS * 1000
  const firstUse = replayGuard(redis, windowMs, logger)
  const signed = edgeSignature({ secrets, windowMs, firstUse })
  app.use('/v1/*', signed)
  app.use('/internal/*', signed)
  app.use('/v1/*', jsonBody())

  mountRoutes(app, { config, logger, database, redis, flushPerformance: latencies.flush })

  app.notFound(notFound)
  app.onError(onError((err, c) => c.var.log?.error({ err }, 'unhandled error')))
  return app
}

/** The API's routes, each group with the parts it needs. */
function mountRoutes(
  app: Hono<OriginEnv>,
  deps: Omit<OriginDeps, 'checks'> & { flushPerformance: () => Promise<void> },
) {
  const { config, logger, database, redis } = deps
  const invalidator = cacheInvalidator(redis)
  const db = database.primary
  const scrypt = {
    cost: config.SCRYPT_COST,
    blockSize: config.SCRYPT_BLOCK_SIZE,
    parallelism: config.SCRYPT_PARALLELISM,
  }
  const events = roomEventRelay({
    db,
    edgeUrl: config.EDGE_URL,
    secret: config.EDGE_SIGNING_SECRET,
    pollMs: config.OUTBOX_POLL_MS,
    log: logger,
  })
  const csvExport = csvExports(database, config)
  const live = liveFeed({
    db,
    redis,
    edgeUrl: config.EDGE_URL,
    secret: config.EDGE_SIGNING_SECRET,
    log: logger,
  })
  app.route('/', accountRoutes({ db, tokens: tokenIssuer(config), invalidator, scrypt }))
  app.route('/', profileRoutes({ db, read: database.db, invalidator }))
  app.route('/', roomRoutes({ db, invalidator, events }))
  app.route('/', ingestRoutes({ db, redis, live }))
  app.route('/', dashboardRoutes({ db, redis, csvExport, flushPerformance: deps.flushPerformance }))
}
