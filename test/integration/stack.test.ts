import { once } from 'node:events'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import { apiClient, freshEmail, freshIp, operatorHeaders } from '../support/api'
import { privateRedis } from '../support/redis-server'
import { until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// The whole stack as `npm run dev` starts it (edge in Miniflare instead of wrangler dev's proxy).
let stack: Stack
let redis: Awaited<ReturnType<typeof privateRedis>>

beforeAll(async () => {
  redis = await privateRedis()
  stack = await startTestStack({
    redisUrl: redis.url,
    originWorkers: 2,
  })
})

afterAll(async () => {
  await stack?.stop()
  await redis?.stop()
})

interface Health {
  status: string
  parts: Record<
    string,
    { status: string; error?: string; dependencies?: Record<string, { status: string }> }
  >
}

const health = async () => {
  const headers = await operatorHeaders(stack.secrets.edgeSigningSecret, '/health')
  const res = await fetch(`${stack.urls.edge}/health`, { headers })
  return { status: res.status, body: (await res.json()) as Health }
}

describe('the stack, end to end', () => {
  it('answers /health through the edge with every part up, MariaDB seen through the origin', async () => {
    const { status, body } = await health()
    expect(status).toBe(200)
    expect(body.status).toBe('ok')
    for (const part of ['edge', 'origin', 'database', 'redis'])
      expect(body.parts[part]?.status).toBe('up')
    expect(body.parts.origin?.dependencies).toMatchObject({
      database: { status: 'up' },
      redis: { status: 'up' },
    })
  })

  it('keeps an idle keep-alive connection open longer than the edge and nginx keep theirs', async () => {
    // A server that closes an idle connection first races the client reusing it: the
    // client's next request (a relay's shipment, a POST through nginx) dies with
    // "Network connection lost" or a 502. nginx keeps upstream connections 60 s, workerd
    // a few seconds; 6 s idle is past Node's default (5 s).
    const { hostname, port } = new URL(stack.urls.origin)
    const socket = connect(Number(port), hostname)
    await once(socket, 'connect')
    const ask = async () => {
      socket.write(`GET /health HTTP/1.1\r\nHost: ${hostname}\r\nConnection: keep-alive\r\n\r\n`)
      const [chunk] = (await Promise.race([
        once(socket, 'data'),
        once(socket, 'close').then(() => [Buffer.from('closed')]),
      ])) as [Buffer]
      return chunk.toString().split('\r\n')[0]
    }
    expect(await ask()).toBe('HTTP/1.1 200 OK')
    await new Promise((r) => setTimeout(r, 6_000))
    expect(socket.destroyed).toBe(false)
    expect(await ask()).toBe('HTTP/1.1 200 OK')
    socket.destroy()
  })

  it("serves the cluster's metrics on the origin's metrics port only, never through the edge", async () => {
    const scrape = await fetch(stack.urls.metrics)
    expect(scrape.status).toBe(200)
    expect(await scrape.text()).toMatch(/^http_requests_total\{/m)
    expect((await fetch(`${stack.urls.edge}/metrics`)).status).toBe(404)
    expect((await fetch(`${stack.urls.edge}/internal/metrics`)).status).toBe(404)
  })

  it("exports the edge's counters, carried in Upstash pipelines the requests send anyway", async () => {
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const reg = await api('/v1/auth/register', {
      method: 'POST',
      json: { email: freshEmail(), password: 'correct horse battery', displayName: 'Metered' },
    })
    const path = `/v1/profiles/${reg.body.user.id}`
    expect((await api(path)).headers.get('x-cache')).toBe('MISS')
    expect((await api(path)).headers.get('x-cache')).toBe('HIT')
    const series = async (name: string, label: string) => {
      const text = await (await fetch(stack.urls.metrics)).text()
      const line = text.split('\n').find((l) => l.startsWith(`${name}{${label}}`))
      return Number(line?.split(' ').at(-1) ?? Number.NaN)
    }
    const hits = await series('plaza_edge_cache_reads_total', 'status="HIT"')
    const allowed = await series('plaza_edge_rate_limit_checks_total', 'verdict="allowed"')
    const calls = stack.standIns.upstash.requests
    for (let i = 0; i < 5; i++) expect((await api(path)).headers.get('x-cache')).toBe('HIT')
    // One Upstash request per HIT, counters included; each carries the one before it.
    expect(stack.standIns.upstash.requests - calls).toBe(5)
    expect((await series('plaza_edge_cache_reads_total', 'status="HIT"')) - hits).toBe(5)
    expect(
      (await series('plaza_edge_rate_limit_checks_total', 'verdict="allowed"')) - allowed,
    ).toBe(5)
  })

  it('forwards a write through the edge to the origin, signed, with the request id', async () => {
    const res = await fetch(`${stack.urls.edge}/v1/integration-probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'it-forward-1' },
      body: JSON.stringify({ hello: 'origin' }),
    })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: 'No route for POST /v1/integration-probe' },
    })
    await new Promise((r) => setTimeout(r, 200))
    const line = stack.origin.logs.map((l) => JSON.parse(l)).find((l) => l.reqId === 'it-forward-1')
    expect(line).toMatchObject({ path: '/v1/integration-probe', status: 404 })
    expect(stack.origin.logs.some((l) => l.includes('rejected unsigned request'))).toBe(false)
  })

  it('logs one request under one reqId at the edge and the origin, the id the client got', async () => {
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const reg = await api('/v1/auth/register', {
      method: 'POST',
      json: { email: freshEmail(), password: 'correct horse battery', displayName: 'Logged' },
    })
    const token = reg.body.tokens.accessToken as string
    const me = await api('/v1/me?secret-looking=query', { token })
    expect(me.status).toBe(200)
    const reqId = me.headers.get('x-request-id')!
    expect(reqId).toMatch(/^[\w-]{16,}$/)
    const lines = (logs: string[]) =>
      logs.flatMap((l) => {
        try {
          return [JSON.parse(l)]
        } catch {
          return []
        }
      })
    await until('both log lines', () =>
      [stack.edge.logs, stack.origin.logs].every((logs) =>
        lines(logs).some((l) => l.reqId === reqId && l.msg === 'request'),
      ),
    )
    const edgeLine = lines(stack.edge.logs).find((l) => l.reqId === reqId)
    expect(edgeLine).toMatchObject({ level: 'info', method: 'GET', path: '/v1/me', status: 200 })
    expect(typeof edgeLine.ms).toBe('number')
    const originLine = lines(stack.origin.logs).find(
      (l) => l.reqId === reqId && l.msg === 'request',
    )
    expect(originLine).toMatchObject({ method: 'GET', path: '/v1/me', status: 200 })
    // Neither the token nor the query string is in the edge's lines.
    const edgeText = stack.edge.logs.join('\n')
    expect(edgeText).not.toContain(token)
    expect(edgeText).not.toContain('secret-looking')
  })

  it('reports Redis down with 503 when it stops, and recovers when it is back, without a restart', async () => {
    await redis.stop()
    // Probes are shared for two seconds: the outage shows within that.
    let down = await health()
    for (let i = 0; i < 40 && down.status !== 503; i++) {
      await new Promise((r) => setTimeout(r, 100))
      down = await health()
    }
    expect(down.status).toBe(503)
    expect(down.body.parts.redis).toMatchObject({ status: 'down' })
    expect(down.body.parts.redis?.error).toMatch(/unreachable/)
    expect(down.body.parts.database?.status).toBe('up')
    await redis.start()
    let recovered = await health()
    for (let i = 0; i < 50 && recovered.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100))
      recovered = await health()
    }
    expect(recovered.status).toBe(200)
    expect(recovered.body.parts.redis?.status).toBe('up')
  })
})
