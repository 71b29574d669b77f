import { decodeTime } from 'ulidx'
import { describe, expect, it } from 'vitest'
import { idPattern, newId } from '../../../shared/ids'

const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
/** The 80 random bits of a ULID as a number. */
const randomPart = (id: string) =>
  [...id.slice(10)].reduce((n, ch) => n * 32n + BigInt(alphabet.indexOf(ch)), 0n)

describe('newId', () => {
  it('makes ULIDs sortable by time', () => {
    const a = newId()
    expect(a).toMatch(idPattern)
    expect(Math.abs(decodeTime(a) - Date.now())).toBeLessThan(1000)
  })

  it('never makes an id guessable from the one before it, even within one millisecond', () => {
    const ids = Array.from({ length: 2000 }, newId)
    for (let i = 1; i < ids.length; i++) {
      const gap = randomPart(ids[i]!) - randomPart(ids[i - 1]!)
      // The monotonic flavour made this exactly 1 for ids of the same millisecond.
      expect(gap > 1000n || gap < -1000n).toBe(true)
    }
  })

  it('draws every random character evenly from the 32 (no bias from the pooled bytes)', () => {
    const counts = new Map<string, number>()
    for (let i = 0; i < 10_000; i++) {
      for (const ch of newId().slice(10)) counts.set(ch, (counts.get(ch) ?? 0) + 1)
    }
    expect(counts.size).toBe(32)
    const expected = (10_000 * 16) / 32
    for (const n of counts.values()) expect(Math.abs(n - expected) / expected).toBeLessThan(0.05)
  })
})
