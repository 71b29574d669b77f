import { describe, expect, it } from 'vitest'
import { takeToken } from '../../../edge/room/sockets'

describe('flood bucket', () => {
  it('lets a burst through, refuses past empty, closes a bucket later, and refills at the rate', () => {
    const bucket = { tokens: 3, at: 0 }
    const verdicts = Array.from({ length: 7 }, () => takeToken(bucket, 0, 2, 3))
    expect(verdicts).toEqual(['ok', 'ok', 'ok', 'refuse', 'refuse', 'refuse', 'close'])
    const calm = { tokens: 0, at: 0 }
    expect(takeToken(calm, 500, 2, 3)).toBe('ok') // half a second at 2/s refills one
    expect(takeToken(calm, 500, 2, 3)).toBe('refuse')
  })
})
