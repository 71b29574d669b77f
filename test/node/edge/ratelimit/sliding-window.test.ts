import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import {
  decide,
  SLIDING_WINDOW,
  verdictOf,
  weighted,
  windowKeys,
} from '../../../../edge/ratelimit/sliding-window'
import { redisUrl, uniq } from '../../../support/env'

const minute = 60_000

describe('sliding window', () => {
  const redis = new Redis(redisUrl)
  afterAll(() => redis.quit())

  it('weights the previous window by how much of it still overlaps', () => {
    expect(weighted(100, 0, minute)).toBe(100) // at the window's start: all of it
    expect(weighted(100, 15_000, minute)).toBe(75)
    expect(weighted(100, 45_000, minute)).toBe(25)
    expect(weighted(100, 59_999, minute)).toBe(0)
  })

  it('allows up to the limit, counting the weighted previous window, then refuses', () => {
    const counts = { current: 0, previous: 10 }
    const now = 30_000 // half the previous window overlaps: 5 count
    const allowed: boolean[] = []
    for (let i = 0; i < 7; i++) {
      const d = decide(10, counts, now, minute)
      allowed.push(d.allowed)
      if (d.allowed) counts.current += 1
    }
    expect(allowed).toEqual([true, true, true, true, true, false, false])
    expect(decide(10, counts, now, minute)).toEqual({ allowed: false, used: 10 })
  })

  it('rotates keys at the window boundary', () => {
    expect(windowKeys('b', 59_999, minute)).toEqual(['b:0', 'b:-1'])
    expect(windowKeys('b', 60_000, minute)).toEqual(['b:1', 'b:0'])
  })

  it('reports remaining and the reset of the current window', () => {
    expect(verdictOf(10, 90_000, minute, [1, 4])).toEqual({
      success: true,
      limit: 10,
      remaining: 6,
      reset: 120_000,
    })
    expect(verdictOf(10, 90_000, minute, [0, 10]).success).toBe(false)
  })

  it('decides exactly as the Lua script does on the real Redis', async () => {
    const bucket = `plaza:test:${uniq('sw')}`
    const limit = 7
    const start = 10 * minute
    // The previous window had 6; walk through the current one at several offsets.
    await redis.set(`${bucket}:${start / minute - 1}`, 6)
    const counts = { current: 0, previous: 6 }
    for (const offset of [0, 5_000, 20_000, 30_000, 45_000, 50_000, 55_000, 59_000]) {
      const now = start + offset
      const keys = windowKeys(bucket, now, minute)
      const [allowed, used] = (await redis.eval(
        SLIDING_WINDOW,
        2,
        ...keys,
        limit,
        now,
        minute,
      )) as [number, number]
      const expected = decide(limit, counts, now, minute)
      expect({ allowed: allowed === 1, used }).toEqual(expected)
      if (expected.allowed) counts.current += 1
    }
    expect(Number(await redis.get(`${bucket}:${start / minute}`))).toBe(counts.current)
  })
})
