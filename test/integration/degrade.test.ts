import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import { apiClient, freshEmail, freshIp, operatorHeaders } from '../support/api'
import { privateRedis } from '../support/redis-server'
import { startTestStack } from '../support/stack'

// Faults, one part at a time, on a stack with its own Redis (so stopping it disturbs no one)
// and a 1 s profile TTL (so stale-if-error can be seen without waiting five minutes).
let stack: Stack
let redis: Awaited<ReturnType<typeof privateRedis>>
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  redis = await privateRedis()
  stack = await startTestStack({
    redisUrl: redis.url,
    edgeVars: { CACHE_TTL_PROFILE_SECONDS: '1', BREAKER_HALF_OPEN_MS: '1000' },
  })
  api = apiClient(stack.urls.edge, { ip: freshIp() })
})

afterAll(async () => {
  await stack?.stop()
  await redis?.stop()
})

async function register() {
  const res = await api('/v1/auth/register', {
    method: 'POST',
    ip: freshIp(),
    json: { email: freshEmail(), password: 'correct horse battery', displayName: 'Faulty' },
  })
  expect(res.status).toBe(201)
  return { id: res.body.user.id as string, token: res.body.tokens.accessToken as string }
}

describe('degrading, not falling over', () => {
  it('Redis down: hot reads STALE from the isolate, cold ones from the database, limits fail open, the breaker opens, writes refuse cleanly', async () => {
    const user = await register()
    const cold = await register()
    expect((await api(`/v1/profiles/${user.id}`)).headers.get('x-cache')).toBe('MISS')
    await redis.stop()
    try {
      const read = await api(`/v1/profiles/${user.id}`)
      expect(read.status).toBe(200)
      // The isolate's own copy, not a trip to the database.
      expect(read.headers.get('x-cache')).toBe('STALE')
      expect(read.body.displayName).toBe('Faulty')
      // The in-isolate limiter still counts.
      expect(read.headers.get('ratelimit-limit')).toBe('100')
      const never = await api(`/v1/profiles/${cold.id}`)
      expect(never.status).toBe(200)
      expect(never.headers.get('x-cache')).toBe('BYPASS')
      // Five failures in a row open Redis's circuit: requests stop calling it at all.
      for (let i = 0; i < 5; i++) await api(`/v1/profiles/${user.id}`)
      const calls = stack.standIns.upstash.requests
      for (let i = 0; i < 10; i++) {
        expect((await api(`/v1/profiles/${user.id}`)).headers.get('x-cache')).toBe('STALE')
      }
      expect(stack.standIns.upstash.requests).toBe(calls)
      const health = await api('/health', {
        headers: await operatorHeaders(stack.secrets.edgeSigningSecret, '/health'),
      })
      expect(health.status).toBe(503)
      expect(health.body.parts.edge.rateLimitFailOpen).toBeGreaterThan(0)
      expect(health.body.parts.edge.breakers.redis).toMatchObject({ state: 'open' })
      expect(health.body.parts.edge.breakers.redis.shortCircuited).toBeGreaterThan(0)
      // A write cannot invalidate the cache, so it is refused and nothing changes.
      const write = await api(`/v1/profiles/${user.id}`, {
        method: 'PATCH',
        token: user.token,
        json: { bio: 'lost?' },
      })
      expect(write.status).toBe(503)
      expect(write.headers.get('retry-after')).toBeTruthy()
      expect((await api(`/v1/profiles/${user.id}`)).body.bio).toBe('')
    } finally {
      await redis.start()
    }
    let back = await api(`/v1/profiles/${user.id}`)
    // Once the breaker lets a call through again (BREAKER_HALF_OPEN_MS), the cache is back.
    for (let i = 0; i < 30 && ['BYPASS', 'STALE'].includes(back.headers.get('x-cache')!); i++) {
      await new Promise((r) => setTimeout(r, 100))
      back = await api(`/v1/profiles/${user.id}`)
    }
    expect(['MISS', 'HIT']).toContain(back.headers.get('x-cache'))
    // What the isolate counted while Redis was away rides in the pipelines after it (the
    // closing itself is counted once the first of them succeeded: one more request carries it).
    await api(`/v1/profiles/${user.id}`)
    const metrics = await (await fetch(stack.urls.metrics)).text()
    const value = (series: string) =>
      Number(
        metrics
          .split('\n')
          .find((l) => l.startsWith(series))
          ?.split(' ')
          .at(-1) ?? 0,
      )
    // Opened at least once (again after each failed half-open test call), closed once Redis answered.
    const opened = value('plaza_edge_breaker_events_total{dependency="redis",event="opened"}')
    expect(opened).toBeGreaterThanOrEqual(1)
    expect(value('plaza_edge_breaker_events_total{dependency="redis",event="closed"}')).toBe(1)
    expect(
      value('plaza_edge_breaker_events_total{dependency="redis",event="short_circuited"}'),
    ).toBeGreaterThanOrEqual(10)
    expect(value('plaza_edge_rate_limit_checks_total{verdict="fail_open"}')).toBeGreaterThan(0)
    expect(value('plaza_edge_cache_reads_total{status="STALE"}')).toBeGreaterThanOrEqual(11)
  })

  it("origin down at a new room's first send: 503 with Retry-After, nothing numbered; it works once the origin is back", async () => {
    const user = await register()
    const created = await api('/v1/rooms', {
      method: 'POST',
      token: user.token,
      json: { name: 'new' },
    })
    expect(created.status).toBe(201)
    const path = `/v1/rooms/${created.body.id}/messages`
    await stack.origin.stop()
    // The room has never numbered a message: it must learn from the origin where MySQL's
    // numbering stands before it can ack one, and the origin is down.
    const refused = await api(path, {
      method: 'POST',
      token: user.token,
      json: { clientMsgId: 'a', body: 'hi' },
    })
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('5')
    expect(refused.body.error.code).toBe('unavailable')
    await stack.restartOrigin()
    const sent = await api(path, {
      method: 'POST',
      token: user.token,
      json: { clientMsgId: 'a', body: 'hi' },
    })
    expect(sent.status).toBe(201)
    expect(sent.body).toMatchObject({ seq: 1 })
  })

  it('origin down: cached reads keep answering, writes get 503 with Retry-After; the database down: STALE', async () => {
    const user = await register()
    expect((await api(`/v1/profiles/${user.id}`)).headers.get('x-cache')).toBe('MISS')
    await stack.origin.stop()
    const cached = await api(`/v1/profiles/${user.id}`)
    expect(cached.status).toBe(200)
    expect(cached.headers.get('x-cache')).toBe('HIT')
    const write = await api(`/v1/profiles/${user.id}`, {
      method: 'PATCH',
      token: user.token,
      json: { bio: 'x' },
    })
    expect(write.status).toBe(503)
    expect(write.headers.get('retry-after')).toBe('5')
    expect(write.body.error.code).toBe('unavailable')
    // Failures in a row open the origin's circuit: writes then fail at once.
    for (let i = 0; i < 5; i++) {
      await api(`/v1/profiles/${user.id}`, {
        method: 'PATCH',
        token: user.token,
        json: { bio: 'x' },
      })
    }
    const operator = async () =>
      (
        await api('/health', {
          headers: await operatorHeaders(stack.secrets.edgeSigningSecret, '/health'),
        })
      ).body.parts.edge.breakers
    expect((await operator()).origin).toMatchObject({ state: 'open', opened: 1 })

    // Past the 1 s TTL with the database unreachable too: the last good copy, marked STALE.
    await new Promise((r) => setTimeout(r, 1_200))
    await stack.standIns.planetscale.close()
    const stale = await api(`/v1/profiles/${user.id}`)
    expect(stale.status).toBe(200)
    expect(stale.headers.get('x-cache')).toBe('STALE')
    expect(stale.body).toEqual(cached.body)
    // Nothing cached for this one: a clear 503, not a wrong answer.
    const unknown = await api('/v1/profiles/01JD3Q6Z8Y0000000000000000')
    expect(unknown.status).toBe(503)
    expect(unknown.headers.get('retry-after')).toBe('5')
    for (let i = 0; i < 5; i++) await api('/v1/profiles/01JD3Q6Z8Y0000000000000000')
    expect((await operator()).database).toMatchObject({ state: 'open' })
  })
})
