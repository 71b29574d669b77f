import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSigningKey } from '../../../dev/jwk'
import { type TokenIssuer, tokenIssuer } from '../../../origin/auth/tokens'
import { createDatabase, type Database } from '../../../origin/db'
import { newId } from '../../../shared/ids'
import { databaseUrl } from '../../support/env'

// Refresh rotation against the real MariaDB: reuse detection, and the grace that lets a
// client retry a refresh whose response it lost (hardening issue, 13).
let database: Database
let tokens: TokenIssuer

beforeAll(async () => {
  database = createDatabase({
    DATABASE_URL: databaseUrl('plaza_test'),
    DATABASE_REPLICA_URLS: [],
    DATABASE_POOL_SIZE: 4,
  })
  tokens = tokenIssuer({
    JWT_SIGNING_KEY: JSON.parse((await generateSigningKey('refresh-test')).privateJwk),
    JWT_ISSUER: 'plaza',
    JWT_AUDIENCE: 'plaza-api',
    ACCESS_TOKEN_TTL_SECONDS: 900,
    REFRESH_TOKEN_TTL_DAYS: 30,
    REFRESH_RETRY_GRACE_SECONDS: 2,
  })
})

afterAll(async () => {
  await database?.close()
})

const refused = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (err: Error) => err.message,
  )

describe('refresh rotation', () => {
  it('a retry within the grace gets the same successor, and the session lives on', async () => {
    const first = await tokens.issue(database.primary, newId())
    const rotated = await tokens.rotate(database.primary, first.refreshToken)
    const retried = await tokens.rotate(database.primary, first.refreshToken)
    expect(retried.refreshToken).toBe(rotated.refreshToken)
    // The successor still works: the family was not revoked.
    const next = await tokens.rotate(database.primary, rotated.refreshToken)
    expect(next.refreshToken).not.toBe(rotated.refreshToken)
  })

  it('two concurrent uses of one token both get the same successor', async () => {
    const first = await tokens.issue(database.primary, newId())
    const both = await Promise.all([
      tokens.rotate(database.primary, first.refreshToken),
      tokens.rotate(database.primary, first.refreshToken),
    ])
    expect(both[0].refreshToken).toBe(both[1].refreshToken)
    await tokens.rotate(database.primary, both[0].refreshToken)
  })

  it('reuse once the successor was spent revokes the family', async () => {
    const first = await tokens.issue(database.primary, newId())
    const second = await tokens.rotate(database.primary, first.refreshToken)
    const third = await tokens.rotate(database.primary, second.refreshToken)
    expect(await refused(tokens.rotate(database.primary, first.refreshToken))).toMatch(
      /already used/,
    )
    expect(await refused(tokens.rotate(database.primary, third.refreshToken))).toMatch(/revoked/)
  })

  it('reuse after the grace revokes the family', async () => {
    const first = await tokens.issue(database.primary, newId())
    const second = await tokens.rotate(database.primary, first.refreshToken)
    await new Promise((r) => setTimeout(r, 2_300))
    expect(await refused(tokens.rotate(database.primary, first.refreshToken))).toMatch(
      /already used/,
    )
    expect(await refused(tokens.rotate(database.primary, second.refreshToken))).toMatch(/revoked/)
  })
})
