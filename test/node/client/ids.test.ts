import { afterEach, describe, expect, it, vi } from 'vitest'
import { newClientMsgId } from '../../../client/src/index'
import { ClientMsgId } from '../../../shared/message'

const realGetRandomValues = globalThis.crypto.getRandomValues.bind(globalThis.crypto)

// clientMsgIds must be unique and valid on every platform the SDK claims, React Native
// included, where crypto.randomUUID (and sometimes crypto altogether) is missing.
describe('newClientMsgId', () => {
  afterEach(() => vi.unstubAllGlobals())

  const check = () => {
    const ids = Array.from({ length: 2000 }, () => newClientMsgId())
    expect(new Set(ids).size).toBe(ids.length)
    for (const id of ids) expect(ClientMsgId.safeParse(id).success).toBe(true)
  }

  it('uses randomUUID where there is one', () => {
    expect(newClientMsgId()).toMatch(/^[0-9a-f-]{36}$/)
    check()
  })

  it('falls back to getRandomValues without randomUUID', () => {
    vi.stubGlobal('crypto', { getRandomValues: realGetRandomValues })
    check()
  })

  it('still gives unique valid ids with no crypto at all', () => {
    vi.stubGlobal('crypto', undefined)
    check()
  })
})
