import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetDatabase } from '../../dev/database'
import { signRequest } from '../../shared/internal/signature'
import { databaseUrl } from '../support/env'
import { startNginx } from '../support/nginx'
import { freePort, type OriginProcess, startOrigin } from '../support/origin'
import { until } from '../support/rooms'

// The one-VM tier's balancer (deploy/compose/plaza.conf) under Debian's nginx, in front of
// three origin instances on this machine: a steady load, one instance SIGKILLed (primary and
// workers, as a container dies), then restarted.
const secret = 'nginx-test-secret-0123456789abcdef0123456'
const url = databaseUrl('plaza_nginx')
const conf = fileURLToPath(new URL('../../deploy/compose/plaza.conf', import.meta.url))
const ports: number[] = []
const origins: OriginProcess[] = []
let nginx: Awaited<ReturnType<typeof startNginx>>

const startInstance = (i: number) =>
  startOrigin({
    EDGE_SIGNING_SECRET: secret,
    DATABASE_URL: url,
    ORIGIN_WORKERS: '1',
    ORIGIN_PORT: String(ports[i]),
  })

beforeAll(async () => {
  await resetDatabase(url)
  for (let i = 0; i < 3; i++) ports.push(await freePort())
  for (let i = 0; i < 3; i++) origins.push(await startInstance(i))
  // Test-only: which instances served a response (nginx lists every one it tried).
  nginx = await startNginx(conf, ports, '  add_header X-Upstream $upstream_addr always;')
}, 60_000)

afterAll(async () => {
  await nginx?.stop()
  await Promise.all(origins.map((o) => o.stop()))
})

/** SIGKILL to an instance and its workers at once, as a container's death. */
function killInstance(origin: OriginProcess): void {
  const pid = origin.child.pid!
  const workers = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
  for (const p of [String(pid), ...workers]) process.kill(Number(p), 'SIGKILL')
}

describe('nginx in front of three origins', () => {
  it('passes signed requests and the request id through, spread over all three', async () => {
    const path = '/v1/profiles/01JD3Q6Z8Y0000000000000000'
    const headers = await signRequest(secret, {
      method: 'GET',
      pathWithQuery: path,
      userId: '',
      body: new Uint8Array(),
    })
    const res = await fetch(`${nginx.url}${path}`, {
      headers: { ...headers, 'x-request-id': 'nginx-passes-1' },
    })
    expect(res.status).toBe(404)
    expect(res.headers.get('x-request-id')).toBe('nginx-passes-1')
    await until('the origin to log it', () =>
      origins.some((o) => o.logs.some((l) => l.includes('"reqId":"nginx-passes-1"'))),
    )
    const served = new Set<string>()
    await Promise.all(
      Array.from({ length: 30 }, async () => {
        const r = await fetch(`${nginx.url}/health`, { headers: { connection: 'close' } })
        served.add(r.headers.get('x-upstream') ?? '')
      }),
    )
    expect(served.size).toBe(3)
  })

  it('loses no more requests than were in flight on an instance SIGKILLed under load, and takes it back', async () => {
    const victim = `127.0.0.1:${ports[0]}`
    const counts = { sent: 0, ok: 0, failed: 0, onVictimAtKill: 0, retriedAway: 0 }
    let killedAt = Number.POSITIVE_INFINITY
    let stop = false
    const one = async () => {
      counts.sent += 1
      const started = Date.now()
      let upstream = ''
      try {
        const res = await fetch(`${nginx.url}/ready`)
        upstream = res.headers.get('x-upstream') ?? ''
        if (res.ok) counts.ok += 1
        else counts.failed += 1
      } catch {
        counts.failed += 1
      }
      // In flight on the victim when it died: started before, answered after, tried there first.
      if (started < killedAt && Date.now() >= killedAt && upstream.startsWith(victim))
        counts.onVictimAtKill += 1
      if (upstream.startsWith(`${victim}, `)) counts.retriedAway += 1
    }
    // A steady load: 16 clients, each a request then a 5 ms pause.
    const loop = async () => {
      while (!stop) {
        await one()
        await new Promise((r) => setTimeout(r, 5))
      }
    }
    const loops = Array.from({ length: 16 }, loop)
    await new Promise((r) => setTimeout(r, 1_500))
    killedAt = Date.now()
    killInstance(origins[0]!)
    await new Promise((r) => setTimeout(r, 2_500))
    // Back on the same port: nginx sends it traffic again once its fail_timeout allows.
    origins[0] = await startInstance(0)
    await until(
      'the restarted instance to serve again',
      async () => {
        const r = await fetch(`${nginx.url}/health`, { headers: { connection: 'close' } })
        return r.headers.get('x-upstream') === victim
      },
      45_000,
    )
    stop = true
    await Promise.all(loops)
    console.log(
      `nginx failover: ${counts.sent} requests sent, ${counts.failed} failed; ` +
        `${counts.onVictimAtKill} in flight on the killed instance, ${counts.retriedAway} retried away from it`,
    )
    expect(counts.sent).toBeGreaterThan(200)
    expect(counts.ok + counts.failed).toBe(counts.sent)
    expect(counts.failed).toBeLessThanOrEqual(counts.onVictimAtKill)
  }, 90_000)
})
