import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Redis } from 'ioredis'
import type { OriginConfig } from '../shared/config'
import { edgeSignalsKey } from '../shared/edge-signals'
import { relaySignalsKey, roomSignalsKey } from '../shared/room-signals'
import { retentionPolicy, scheduleRetention } from './analytics/retention'
import { createApp } from './app'
import { createDatabase } from './db'
import { createLogger } from './logger'
import { resourceMetrics } from './metrics/limits'
import { signalMetrics } from './metrics/signals'
import { poolMetrics, redisErrors } from './metrics/worker'
import { replies } from './redis-replies'

/** How long an idle keep-alive connection stays open: longer than nginx's upstream 60 s. */
const IDLE_CONNECTION_MS = 65_000

/** One origin worker: the HTTP server and its pools, drained and closed on shutdown. */
export function runWorker(config: OriginConfig): void {
  const logger = createLogger(config)
  const database = createDatabase(config)
  const redis = new Redis(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  })
  let redisDown = false
  redis.on('error', (err) => {
    redisErrors.inc()
    if (!redisDown) logger.warn({ err: err.message }, 'redis unreachable')
    redisDown = true
  })
  redis.on('ready', () => {
    if (redisDown) logger.info('redis reachable again')
    redisDown = false
  })

  poolMetrics(() => database.poolStats())
  resourceMetrics()
  const stopRetention = scheduleRetention(
    database.primary.$client,
    retentionPolicy(config),
    config.RETENTION_INTERVAL_MS,
    logger,
  )
  // The three hashes in one round trip per scrape.
  signalMetrics(async () => {
    const [edge, rooms, relays] = (await replies(
      redis.pipeline().hgetall(edgeSignalsKey).hgetall(roomSignalsKey).hgetall(relaySignalsKey),
    )) as Array<Record<string, string>>
    return { edge: edge ?? {}, rooms: rooms ?? {}, relays: relays ?? {} }
  })
  const app = createApp({
    config,
    logger,
    checks: { database: () => database.ping(), redis: () => redis.ping() },
    database,
    redis,
  })
  const server = serve(
    { fetch: app.fetch, port: config.ORIGIN_PORT, hostname: config.ORIGIN_HOST },
    (info) => logger.info({ port: info.port }, 'worker listening'),
  ) as Server
  // The side that closes an idle connection first races its peer reusing it: a relay's
  // shipment died with "Network connection lost", and a POST through nginx (upstream
  // connections kept 60 s) would be a 502. Node's default is 5 s: outlast the clients.
  server.keepAliveTimeout = IDLE_CONNECTION_MS
  server.headersTimeout = IDLE_CONNECTION_MS + 1_000

  let draining = false
  const drain = async (reason: string) => {
    if (draining) return
    draining = true
    stopRetention()
    logger.info({ reason }, 'draining: finishing in-flight requests')
    const deadline = setTimeout(() => {
      logger.warn('drain deadline passed; closing remaining connections')
      server.closeAllConnections()
      process.exit(1)
    }, config.SHUTDOWN_TIMEOUT_MS)
    deadline.unref()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await Promise.allSettled([database.close(), redis.quit()])
    logger.info('drained')
    process.exit(0)
  }
  process.on('SIGTERM', () => void drain('SIGTERM'))
  process.on('SIGINT', () => void drain('SIGINT'))
  process.on('message', (message: unknown) => {
    if ((message as { type?: string })?.type === 'shutdown') void drain('primary asked')
  })
  // The primary is gone: never outlive it.
  process.on('disconnect', () => void drain('primary disconnected'))
}
