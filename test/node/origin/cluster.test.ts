import { Agent, get } from 'node:http'
import { describe, expect, it } from 'vitest'
import { databaseUrl } from '../../support/env'
import { startOrigin } from '../../support/origin'

const env = {
  EDGE_SIGNING_SECRET: 'cluster-test-secret-0123456789abcdef',
  ORIGIN_WORKERS: '2',
  DATABASE_URL: databaseUrl('plaza_test'),
}

/**
 * One keep-alive GET of /health on `agent`: the status and the answering worker's pid. A
 * request that hangs (a connection handed to the worker as it died) fails after 5 s.
 */
function healthOn(agent: Agent, url: string): Promise<{ status: number; pid: number }> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/health`, { agent, timeout: 5_000 }, (res) => {
      let data = ''
      res.on('data', (chunk) => {
        data += chunk
      })
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, pid: (JSON.parse(data) as { pid: number }).pid })
        } catch (err) {
          reject(err)
        }
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')))
    req.on('error', reject)
  })
}

/**
 * Keeps `concurrency` requests in flight until stopped; records which worker answered.
 * The client holds at most `concurrency` sockets (fetch's pool may open more and keep
 * idle ones to a dead worker, each of which then fails one request): so a kill can cost
 * at most one request per socket the victim held.
 */
function steadyLoad(url: string, concurrency: number) {
  const stats = { ok: 0, failed: 0, pids: new Set<number>() }
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  let running = true
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const { status, pid } = await healthOn(agent, url)
        if (status === 200) {
          stats.ok += 1
          stats.pids.add(pid)
        } else stats.failed += 1
      } catch {
        stats.failed += 1
      }
    }
  })
  return {
    stats,
    async stop() {
      running = false
      await Promise.all(loops)
      agent.destroy()
    },
  }
}

/** The pid of the worker that answers on a brand-new connection. */
function pidOnFreshConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/health`, { agent: false, timeout: 5_000 }, (res) => {
      let data = ''
      res.on('data', (chunk) => {
        data += chunk
      })
      res.on('end', () => resolve((JSON.parse(data) as { pid: number }).pid))
    })
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')))
    req.on('error', reject)
  })
}

describe('origin cluster', () => {
  it('replaces a SIGKILLed worker; the load loses at most the requests in flight on it', async () => {
    const origin = await startOrigin(env)
    try {
      const concurrency = 8
      const load = steadyLoad(origin.url, concurrency)
      await new Promise((r) => setTimeout(r, 1_000))
      const before = new Set(load.stats.pids)
      expect(before.size).toBe(2)
      const victim = [...before][0]!
      process.kill(victim, 'SIGKILL')
      // Wait until the primary reports a third worker listening: the replacement.
      const deadline = Date.now() + 15_000
      const listening = () =>
        origin.logs.filter((l) => l.includes('"msg":"worker listening"')).length
      while (Date.now() < deadline && listening() < 3) await new Promise((r) => setTimeout(r, 50))
      const okAtReplacement = load.stats.ok
      await new Promise((r) => setTimeout(r, 1_000))
      await load.stop()
      expect(origin.logs.some((l) => l.includes('worker died; replacing it'))).toBe(true)
      // The load kept flowing, and lost no more than what was in flight on the victim.
      expect(load.stats.ok).toBeGreaterThan(okAtReplacement)
      expect(load.stats.failed).toBeLessThanOrEqual(concurrency)
      // New connections are spread over the survivor and the replacement.
      const pids = new Set(
        await Promise.all(Array.from({ length: 6 }, () => pidOnFreshConnection(origin.url))),
      )
      expect(pids.size).toBe(2)
      expect(pids.has(victim)).toBe(false)
      expect([...pids].filter((pid) => !before.has(pid))).toHaveLength(1)
    } finally {
      await origin.stop()
    }
    // A replacement worker compiles before it listens: slow when the machine is busy.
  }, 60_000)

  it('drains on SIGTERM: workers finish, pools close, the process exits 0 and frees its port', async () => {
    const origin = await startOrigin(env)
    const load = steadyLoad(origin.url, 4)
    await new Promise((r) => setTimeout(r, 300))
    const code = await origin.stop()
    await load.stop()
    expect(code).toBe(0)
    expect(origin.logs.filter((l) => l.includes('"msg":"drained"'))).toHaveLength(2)
    expect(origin.logs.some((l) => l.includes('all workers drained'))).toBe(true)
    await expect(fetch(`${origin.url}/health`)).rejects.toThrow()
  })
})
