import { describe, expect, it } from 'vitest'
import { VerifiedTokens } from '../../../edge/middleware/verified-tokens'

describe('VerifiedTokens', () => {
  const claims = (exp: number) => ({
    sub: '01J0000000000000000000000A',
    exp,
    name: 'Ada',
    role: 'user',
  })

  it('answers for the exact token string it verified, never beyond its expiry and tolerance', () => {
    const tokens = new VerifiedTokens(10, 5)
    const exp = 1_000_000
    tokens.set('token-a', claims(exp))
    expect(tokens.get('token-a', (exp - 60) * 1000)).toEqual(claims(exp))
    expect(tokens.get('token-a.', (exp - 60) * 1000)).toBeUndefined()
    expect(tokens.get('token-b', (exp - 60) * 1000)).toBeUndefined()
    // Within the verifier's 5 s clock tolerance it still answers, as jose would…
    expect(tokens.get('token-a', (exp + 4) * 1000)).toEqual(claims(exp))
    // …past it, it is gone (and stays gone).
    expect(tokens.get('token-a', (exp + 6) * 1000)).toBeUndefined()
    expect(tokens.get('token-a', (exp - 60) * 1000)).toBeUndefined()
  })

  it('holds at most its bound, dropping the oldest first', () => {
    const tokens = new VerifiedTokens(3)
    for (const t of ['a', 'b', 'c', 'd']) tokens.set(t, claims(2_000_000_000))
    expect(tokens.size).toBe(3)
    expect(tokens.get('a')).toBeUndefined()
    expect(tokens.get('d')).toBeDefined()
  })
})
