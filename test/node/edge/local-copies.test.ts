import { describe, expect, it } from 'vitest'
import { LocalCopies } from '../../../edge/local-copies'

const copy = (text: string) => ({ etag: 'W/"1-x"', text })

describe("the isolate's local copies", () => {
  it('serves a copy only within its age since it was last confirmed current', () => {
    const copies = new LocalCopies(1_000_000, 60_000)
    copies.confirm('a', copy('{"a":1}'), 0)
    expect(copies.recent('a', 59_000)?.text).toBe('{"a":1}')
    expect(copies.recent('a', 61_000)).toBeNull()
    expect(copies.recent('never', 0)).toBeNull()
  })

  it('holds at most its bytes, dropping the least recently confirmed first', () => {
    const copies = new LocalCopies(8_000, 60_000)
    for (let i = 0; i < 20; i++) copies.confirm(`k${i}`, copy('x'.repeat(900)), 0)
    copies.confirm('k12', copy('x'.repeat(900)), 0) // confirmed again: now the newest
    const kept = Array.from({ length: 20 }, (_, i) => `k${i}`).filter((k) => copies.recent(k, 1))
    expect(kept.length).toBeLessThanOrEqual(8)
    expect(kept).toContain('k12')
    expect(kept).toContain('k19')
    expect(kept).not.toContain('k0')
  })

  it('never holds one entry larger than an eighth of its bytes', () => {
    const copies = new LocalCopies(8_000, 60_000)
    copies.confirm('big', copy('x'.repeat(2_000)), 0)
    expect(copies.recent('big', 1)).toBeNull()
  })
})
