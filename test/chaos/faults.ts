import { execFileSync } from 'node:child_process'
import type { Stack } from '../../dev/stack'
import type { privateMariaDb } from '../support/mariadb-server'
import type { privateRedis } from '../support/redis-server'
import type { tcpProxy } from '../support/tcp-proxy'

/** What a campaign can break (the fault issue's list). */
export const faultKinds = [
  'origin-kill',
  'worker-kill',
  'mariadb-stop',
  'redis-stop',
  'edge-restart',
  'client-cut',
] as const
export type FaultKind = (typeof faultKinds)[number]

export interface Targets {
  stack: Stack
  mariadb: Awaited<ReturnType<typeof privateMariaDb>>
  redis: Awaited<ReturnType<typeof privateRedis>>
  proxy: Awaited<ReturnType<typeof tcpProxy>>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The origin cluster's workers: the primary's children. */
function workerPids(stack: Stack): number[] {
  const primary = stack.origin.child.pid
  try {
    return execFileSync('pgrep', ['-P', String(primary)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

/**
 * Breaks one part for `downMs` and brings it back; resolves once it is back (what "back"
 * means is the part's own start: a port that answers). Returns what it did, for the log.
 */
export async function inject(
  kind: FaultKind,
  t: Targets,
  downMs: number,
  pick: (n: number) => number,
): Promise<string> {
  switch (kind) {
    case 'origin-kill': {
      await t.stack.origin.kill() // SIGKILL to the primary's process group
      await sleep(downMs)
      await t.stack.restartOrigin()
      return `SIGKILL the origin primary (and its workers), back after ${downMs} ms`
    }
    case 'worker-kill': {
      const pids = workerPids(t.stack)
      const pid = pids[pick(pids.length)]
      if (pid === undefined) return 'SIGKILL an origin worker: none running (skipped)'
      process.kill(pid, 'SIGKILL') // the primary forks a replacement
      return `SIGKILL origin worker ${pid} (the primary replaces it)`
    }
    case 'mariadb-stop': {
      await t.mariadb.stop()
      await sleep(downMs)
      await t.mariadb.start()
      return `MariaDB stopped for ${downMs} ms`
    }
    case 'redis-stop': {
      await t.redis.stop()
      await sleep(downMs)
      await t.redis.start()
      return `Redis stopped for ${downMs} ms`
    }
    case 'edge-restart': {
      await t.stack.restartEdge(downMs)
      return `edge restarted (persisted storage), down ${downMs} ms`
    }
    case 'client-cut': {
      t.proxy.cut()
      await sleep(downMs)
      t.proxy.restore()
      return `client connections cut, refused for ${downMs} ms`
    }
  }
}
