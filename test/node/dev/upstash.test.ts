import { Ratelimit } from '@upstash/ratelimit'
import { Redis } from '@upstash/redis'
import { Redis as IORedis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningStandIn } from '../../../dev/http'
import { startUpstashStandIn } from '../../../dev/upstash'
import { awayFromWindowEdge } from '../../support/api'
import { redisUrl, uniq } from '../../support/env'

const token = 'upstash-stand-in-test-token'
let standIn: RunningStandIn
let redis: Redis
let direct: IORedis
const key = (name: string) => uniq(`test:upstash:${name}`)

beforeAll(async () => {
  standIn = await startUpstashStandIn({ redisUrl, token })
  redis = new Redis({ url: standIn.url, token, retry: false })
  direct = new IORedis(redisUrl)
})

afterAll(async () => {
  await standIn?.close()
  direct?.disconnect()
})

describe('@upstash/redis through the stand-in', () => {
  it('round-trips strings, unicode and numbers', async () => {
    const k = key('str')
    expect(await redis.set(k, 'héllo wörld 🌍')).toBe('OK')
    expect(await redis.get(k)).toBe('héllo wörld 🌍')
    expect(await direct.get(k)).toBe('héllo wörld 🌍')
    const n = key('num')
    expect(await redis.incrby(n, 41)).toBe(41)
    expect(await redis.incr(n)).toBe(42)
    expect(await redis.get<number>(n)).toBe(42)
    expect(await redis.get(key('missing'))).toBeNull()
  })

  it('stores JSON values and reads them back as objects', async () => {
    const k = key('json')
    const value = { name: 'Ada', tags: ['x', 'y'], nested: { n: 1.5, ok: true } }
    await redis.set(k, value, { ex: 60 })
    expect(await redis.get(k)).toEqual(value)
    expect(await redis.ttl(k)).toBeGreaterThan(50)
  })

  it('speaks hashes and sorted sets', async () => {
    const h = key('hash')
    expect(await redis.hset(h, { a: 'one', b: 2 })).toBe(2)
    expect(await redis.hgetall(h)).toEqual({ a: 'one', b: 2 })
    expect(await redis.hget(h, 'a')).toBe('one')
    const z = key('zset')
    await redis.zadd(
      z,
      { score: 3, member: 'c' },
      { score: 1, member: 'a' },
      { score: 2, member: 'b' },
    )
    expect(await redis.zrange(z, 0, -1)).toEqual(['a', 'b', 'c'])
    expect(await redis.zrange(z, 0, -1, { rev: true, withScores: true })).toEqual([
      'c',
      3,
      'b',
      2,
      'a',
      1,
    ])
    expect(await redis.zincrby(z, 10, 'a')).toBe(11)
    expect(await redis.zrevrank(z, 'a')).toBe(0)
  })

  it('runs pipelines and transactions', async () => {
    const k = key('pipe')
    const results = await redis.pipeline().set(k, 'v').get(k).incr(`${k}:n`).exec()
    expect(results).toEqual(['OK', 'v', 1])
    const tx = await redis.multi().incr(`${k}:n`).incr(`${k}:n`).get(`${k}:n`).exec()
    expect(tx).toEqual([2, 3, 3])
  })

  it('answers with base64 strings only when the client asks', async () => {
    const k = key('enc')
    await redis.set(k, 'plain text')
    const raw = new Redis({
      url: standIn.url,
      token,
      responseEncoding: false,
      automaticDeserialization: false,
    })
    expect(await raw.get(k)).toBe('plain text')
    const res = await fetch(standIn.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'upstash-encoding': 'base64' },
      body: JSON.stringify(['GET', k]),
    })
    expect(await res.json()).toEqual({ result: Buffer.from('plain text').toString('base64') })
  })

  it('reports command errors as Upstash does', async () => {
    const k = key('err')
    await redis.set(k, 'not a number')
    await expect(redis.incr(k)).rejects.toThrow(/ERR value is not an integer/)
    const res = await fetch(standIn.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(['INCR', k]),
    })
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatch(/not an integer/)
    const piped = await redis.pipeline().set(k, 'x').incr(k).exec({ keepErrors: true })
    expect(piped[0]).toEqual({ result: 'OK', error: undefined })
    expect(piped[1]?.error).toMatch(/not an integer/)
  })

  it('rejects a missing or wrong bearer token with 401', async () => {
    const wrong = new Redis({ url: standIn.url, token: 'not-the-token', retry: false })
    await expect(wrong.get('x')).rejects.toThrow(/Unauthorized/)
    const res = await fetch(standIn.url, { method: 'POST', body: JSON.stringify(['PING']) })
    expect(res.status).toBe(401)
  })

  it('refuses connection-state commands that would break the shared connections', async () => {
    await expect(redis.eval('return 1', [], [])).resolves.toBe(1)
    const res = await fetch(standIn.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(['SELECT', '2']),
    })
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatch(/SELECT is not supported/)
  })

  it('serves many clients at once, and a blocking command does not stall the others', async () => {
    const list = key('block')
    const order: string[] = []
    const blocked = fetch(standIn.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(['BLPOP', list, '1']),
    }).then(async (res) => {
      expect(await res.json()).toEqual({ result: null })
      order.push('blpop')
    })
    const reads = Array.from({ length: 200 }, (_, i) =>
      redis.set(key(`c${i}`), i).then(() => order.push('set')),
    )
    await Promise.all([blocked, ...reads])
    expect(order).toHaveLength(201)
    expect(order.at(-1)).toBe('blpop')
  })
})

describe('@upstash/ratelimit through the stand-in', () => {
  const limiters = {
    'sliding window': Ratelimit.slidingWindow(5, '10 s'),
    'fixed window': Ratelimit.fixedWindow(5, '10 s'),
    'token bucket': Ratelimit.tokenBucket(1, '10 s', 5),
  }
  for (const [name, limiter] of Object.entries(limiters)) {
    it(`${name}: allows the limit, then blocks`, async () => {
      const ratelimit = new Ratelimit({ redis, limiter, prefix: key('rl'), ephemeralCache: false })
      // All six inside one 10 s window: straddling its edge, the sixth would see a new one
      // (a CI run once read a reset 6 ms in the past).
      await awayFromWindowEdge(10_000, 2_000)
      const results = []
      for (let i = 0; i < 6; i++) results.push(await ratelimit.limit('user-1'))
      expect(results.map((r) => r.success)).toEqual([true, true, true, true, true, false])
      expect(results[4]?.remaining).toBe(0)
      expect(results[5]?.reset).toBeGreaterThan(Date.now())
      // Another identifier has its own budget.
      expect((await ratelimit.limit('user-2')).success).toBe(true)
    })
  }

  it('falls back from EVALSHA to EVAL when Redis has no script, then uses the cached hash', async () => {
    await direct.script('FLUSH')
    const ratelimit = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(3, '10 s'),
      prefix: key('rl'),
    })
    const before = await evalCounts()
    expect((await ratelimit.limit('u')).success).toBe(true)
    const afterFirst = await evalCounts()
    expect(afterFirst.eval).toBeGreaterThan(before.eval)
    expect((await ratelimit.limit('u')).success).toBe(true)
    const afterSecond = await evalCounts()
    expect(afterSecond.evalsha).toBeGreaterThan(afterFirst.evalsha)
    expect(afterSecond.evalshaFailed).toBe(afterFirst.evalshaFailed)
  })
})

describe('when Redis is unreachable', () => {
  it('answers 503 naming the Redis it could not reach', async () => {
    const dead = await startUpstashStandIn({ redisUrl: 'redis://127.0.0.1:1', token })
    try {
      const client = new Redis({ url: dead.url, token, retry: false })
      await expect(client.get('x')).rejects.toThrow(
        /Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/,
      )
      const res = await fetch(dead.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify(['PING']),
      })
      expect(res.status).toBe(503)
    } finally {
      await dead.close()
    }
  })
})

async function evalCounts() {
  const info = await direct.info('commandstats')
  const read = (name: string, field: string) =>
    Number(new RegExp(`cmdstat_${name}:.*?${field}=(\\d+)`).exec(info)?.[1] ?? 0)
  return {
    eval: read('eval', 'calls'),
    evalsha: read('evalsha', 'calls'),
    evalshaFailed: read('evalsha', 'failed_calls'),
  }
}
