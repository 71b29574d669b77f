import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword, topUpFor } from '../../../origin/auth/passwords'
import { newId } from '../../../shared/ids'
import { signRequest } from '../../../shared/internal/signature'
import { databaseUrl } from '../../support/env'
import { type OriginProcess, startOrigin } from '../../support/origin'

// Hardening issue, 10: a failed sign-in for an account hashed before a scrypt cost raise
// must not be faster than one for an email that does not exist.
const secret = 'timing-test-secret-0123456789abcdef0123'
const today = { cost: 16_384, blockSize: 8, parallelism: 1 }
let origin: OriginProcess

beforeAll(async () => {
  origin = await startOrigin({
    EDGE_SIGNING_SECRET: secret,
    ORIGIN_WORKERS: '1',
    DATABASE_URL: databaseUrl('plaza_test'),
    SCRYPT_COST: String(today.cost),
  })
})

afterAll(async () => {
  await origin?.stop()
})

async function failedLogin(email: string): Promise<number> {
  const body = JSON.stringify({ email, password: 'wrong password entirely' })
  const headers = await signRequest(secret, {
    method: 'POST',
    pathWithQuery: '/v1/auth/login',
    userId: '',
    body: new TextEncoder().encode(body),
  })
  const started = performance.now()
  const res = await fetch(`${origin.url}/v1/auth/login`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
  })
  const took = performance.now() - started
  expect(res.status).toBe(401)
  return took
}

const fastest = (xs: number[]) => Math.min(...xs)

describe('failed sign-ins take one time', () => {
  it('an account hashed at an old cost fails as slowly as an unknown email', async () => {
    const db = await mysql.createConnection(databaseUrl('plaza_test'))
    const id = newId()
    const email = `${id.toLowerCase()}@old-cost.test`
    const old = await hashPassword('correct horse battery', { ...today, cost: 1_024 })
    await db.query(
      'INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, NOW(3))',
      [id, email, old],
    )
    await db.end()
    const oldAccount: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 9; i++) {
      oldAccount.push(await failedLogin(email))
      unknown.push(await failedLogin(`nobody-${newId().toLowerCase()}@old-cost.test`))
    }
    // Before the fix: ~1/16 of the time (scrypt at N=1024 against N=16384). The fastest of
    // each is compared: other tests running beside this one only ever add time, and a
    // median of a few samples taken under that load once read 0.61 where alone it reads 0.9–1.1.
    expect(fastest(oldAccount) / fastest(unknown)).toBeGreaterThan(0.7)
  })

  it('tops up exactly the missing work, in powers of two of N at today’s block size', () => {
    const work = (runs: Array<{ cost: number; blockSize: number; parallelism: number }>) =>
      runs.reduce((n, r) => n + r.cost * r.blockSize * r.parallelism, 0)
    const at = (cost: number, r = 8, p = 1) => `scrypt$${cost}$${r}$${p}$c2FsdA==$aGFzaA==`
    expect(work(topUpFor(at(1024), today))).toBe(16_384 * 8 - 1024 * 8)
    expect(work(topUpFor(at(8192, 8, 2), today))).toBe(0) // as strong as today's
    expect(topUpFor(at(32_768), today)).toEqual([]) // stronger: nothing to add
    expect(work(topUpFor('bcrypt$whatever', today))).toBe(16_384 * 8) // unreadable: all of it
  })
})
