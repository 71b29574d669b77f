import { describe, expect, it } from 'vitest'
import { verifySignature } from '../../../../origin/middleware/signature'
import { signatureHeaders, signRequest, verifyRequest } from '../../../../shared/internal/signature'

const secret = 'unit-test-secret-0123456789abcdef0123'
const body = new TextEncoder().encode('{"a":1}')
const base = { method: 'POST', pathWithQuery: '/v1/rooms?x=1', userId: 'user-1', body }

type Verifier = (
  secrets: readonly string[],
  request: {
    method: string
    pathWithQuery: string
    headers: Headers
    body: Uint8Array<ArrayBuffer>
  },
  options: { windowMs: number; now?: number },
) => Promise<{ ok: boolean; userId?: string; reason?: string }>

// The edge's WebCrypto verifier and the origin's node:crypto one must agree on everything.
const verifiers: Array<[string, Verifier]> = [
  ['WebCrypto (shared)', verifyRequest],
  [
    'node:crypto (origin)',
    async (...args) => {
      const result = verifySignature(...args)
      return result.ok ? { ok: true, userId: result.userId } : result
    },
  ],
]

describe.each(verifiers)('edge → origin signature, verified with %s', (_name, verifyWith) => {
  async function verify(
    headers: Record<string, string>,
    overrides: Partial<typeof base> = {},
    now?: number,
  ) {
    const req = { ...base, ...overrides, headers: new Headers(headers) }
    return verifyWith([secret], req, { windowMs: 30_000, now })
  }

  it('verifies what it signed and returns the vouched user', async () => {
    expect(await verify(await signRequest(secret, base))).toEqual({ ok: true, userId: 'user-1' })
  })

  it('rejects a change to any signed part', async () => {
    const headers = await signRequest(secret, base)
    expect((await verify(headers, { method: 'PATCH' })).ok).toBe(false)
    expect((await verify(headers, { pathWithQuery: '/v1/rooms?x=2' })).ok).toBe(false)
    expect((await verify(headers, { body: new TextEncoder().encode('{"a":2}') })).ok).toBe(false)
    expect(await verify({ ...headers, [signatureHeaders.user]: 'user-2' })).toEqual({
      ok: false,
      reason: 'bad signature',
    })
  })

  it('rejects a signature outside the clock window, either side', async () => {
    const headers = await signRequest(secret, { ...base, timestamp: 1_000_000 })
    expect(await verify(headers, {}, 1_000_000 + 30_001)).toEqual({
      ok: false,
      reason: 'stale signature',
    })
    expect(await verify(headers, {}, 1_000_000 - 30_001)).toEqual({
      ok: false,
      reason: 'stale signature',
    })
    expect((await verify(headers, {}, 1_000_000 + 29_000)).ok).toBe(true)
  })

  it('rejects missing and malformed headers', async () => {
    expect(await verify({})).toEqual({ ok: false, reason: 'missing signature' })
    const headers = await signRequest(secret, base)
    expect((await verify({ ...headers, [signatureHeaders.signature]: 'v1=zz' })).ok).toBe(false)
    expect((await verify({ ...headers, [signatureHeaders.timestamp]: 'soon' })).ok).toBe(false)
  })

  it('accepts the previous secret while rotating, and never another', async () => {
    const headers = await signRequest('previous-secret-0123456789abcdef0123', base)
    const req = { ...base, headers: new Headers(headers) }
    expect(
      (
        await verifyWith([secret, 'previous-secret-0123456789abcdef0123'], req, {
          windowMs: 30_000,
        })
      ).ok,
    ).toBe(true)
    expect((await verifyWith([secret], req, { windowMs: 30_000 })).ok).toBe(false)
  })

  it('signs a nonce: two requests alike in the same millisecond differ, and the nonce cannot be changed', async () => {
    const one = await signRequest(secret, { ...base, timestamp: 1_000_000 })
    const two = await signRequest(secret, { ...base, timestamp: 1_000_000 })
    expect(one[signatureHeaders.nonce]).toMatch(/^[0-9a-f]{32}$/)
    expect(one[signatureHeaders.signature]).not.toBe(two[signatureHeaders.signature])
    expect((await verify(one, {}, 1_000_000)).ok).toBe(true)
    expect((await verify(two, {}, 1_000_000)).ok).toBe(true)
    const swapped = { ...one, [signatureHeaders.nonce]: two[signatureHeaders.nonce]! }
    expect(await verify(swapped, {}, 1_000_000)).toEqual({ ok: false, reason: 'bad signature' })
    const { [signatureHeaders.nonce]: _dropped, ...without } = one
    expect(await verify(without, {}, 1_000_000)).toEqual({ ok: false, reason: 'bad signature' })
    for (const nonce of ['', 'ABCDEF0123456789abcdef0123456789', 'abc', 'a'.repeat(33)]) {
      expect(await verify({ ...one, [signatureHeaders.nonce]: nonce }, {}, 1_000_000)).toEqual({
        ok: false,
        reason: 'malformed nonce',
      })
    }
  })

  it('still verifies the form without a nonce (backends that publish sign it)', async () => {
    const headers = await signRequest(secret, { ...base, nonce: null })
    expect(headers[signatureHeaders.nonce]).toBeUndefined()
    expect(await verify(headers)).toEqual({ ok: true, userId: 'user-1' })
  })

  it('accepts the timestamp in one textual form only', async () => {
    const headers = await signRequest(secret, { ...base, timestamp: 1_000_000 })
    const at = (timestamp: string) =>
      verify({ ...headers, [signatureHeaders.timestamp]: timestamp }, {}, 1_000_000)
    expect((await at('1000000')).ok).toBe(true)
    for (const spelling of ['01000000', '1000000.0', '+1000000', '1e6']) {
      expect(await at(spelling)).toEqual({ ok: false, reason: 'malformed timestamp' })
    }
  })
})
