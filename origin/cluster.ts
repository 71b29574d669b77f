import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import type { OriginConfig } from '../shared/config'
import { createLogger } from './logger'
import { serveClusterMetrics } from './metrics/primary'

/**
 * The primary: forks one worker per core (or ORIGIN_WORKERS), replaces any that dies,
 * and on SIGTERM/SIGINT asks each to drain, waiting up to SHUTDOWN_TIMEOUT_MS.
 */
export function runPrimary(config: OriginConfig): void {
  const logger = createLogger(config).child({ role: 'primary' })
  const count = config.ORIGIN_WORKERS || availableParallelism()
  let stopping = false
  const recentCrashes: number[] = []

  const fork = () => cluster.fork()
  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    if (stopping) return
    const now = Date.now()
    recentCrashes.push(now)
    while (recentCrashes.length && (recentCrashes[0] ?? now) < now - 60_000) recentCrashes.shift()
    // A crash loop (bad config, port taken) backs off instead of spinning the CPU.
    const delay = recentCrashes.length > 10 ? 2_000 : 0
    logger.warn(
      { workerPid: worker.process.pid, code, signal, restartInMs: delay },
      'worker died; replacing it',
    )
    setTimeout(fork, delay)
  })

  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down: draining workers')
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w)
    if (!workers.length) process.exit(0)
    let remaining = workers.length
    for (const worker of workers) {
      worker.once('exit', () => {
        remaining -= 1
        if (remaining === 0) {
          logger.info('all workers drained')
          process.exit(0)
        }
      })
      if (worker.isConnected()) worker.send({ type: 'shutdown' })
    }
    setTimeout(() => {
      logger.error('workers did not drain in time; killing them')
      for (const worker of workers) worker.process.kill('SIGKILL')
      process.exit(1)
    }, config.SHUTDOWN_TIMEOUT_MS + 1_000).unref()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))

  const metrics =
    config.METRICS_PORT > 0
      ? serveClusterMetrics(config.ORIGIN_HOST, config.METRICS_PORT, logger)
      : undefined
  metrics?.unref()
  logger.info({ workers: count, port: config.ORIGIN_PORT }, 'origin starting')
  for (let i = 0; i < count; i++) fork()
}
