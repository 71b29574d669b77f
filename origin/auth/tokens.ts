import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { and, eq, isNull } from 'drizzle-orm'
import { importJWK, SignJWT } from 'jose'
import type { OriginConfig } from '../../shared/config'
import { ApiError } from '../../shared/errors'
import { newId } from '../../shared/ids'
import { profiles, refreshTokens, users } from '../../shared/schema'
import type { Database } from '../db'

type Db = Database['db']
type TokenConfig = Pick<
  OriginConfig,
  | 'JWT_SIGNING_KEY'
  | 'JWT_ISSUER'
  | 'JWT_AUDIENCE'
  | 'ACCESS_TOKEN_TTL_SECONDS'
  | 'REFRESH_TOKEN_TTL_DAYS'
  | 'REFRESH_RETRY_GRACE_SECONDS'
>

export interface Tokens {
  tokenType: 'Bearer'
  accessToken: string
  expiresIn: number
  refreshToken: string
  refreshExpiresIn: number
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex')
const invalid = (message: string) =>
  new ApiError('unauthorized', message, {
    headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
  })

const reuse = () =>
  invalid('Refresh token already used; every session from this sign-in is revoked')

/**
 * Access tokens: EdDSA JWTs with `kid`, short-lived. Refresh tokens: 32 random bytes,
 * stored as SHA-256 only, rotated on every use; presenting a spent one revokes its family —
 * except within `REFRESH_RETRY_GRACE_SECONDS` of its rotation while its successor is
 * unspent: that is a client retrying a refresh whose response it lost (or two tabs
 * refreshing at once), and it gets the same successor again. The successor is an HMAC of
 * the spent token under a key derived from the signing key, so the origin can hand it out
 * twice without storing it, and nobody without that key can compute it.
 */
export function tokenIssuer(config: TokenConfig) {
  const signingKey = importJWK(config.JWT_SIGNING_KEY, 'EdDSA')
  const refreshTtlSeconds = config.REFRESH_TOKEN_TTL_DAYS * 86_400
  const successorKey = Buffer.from(
    hkdfSync(
      'sha256',
      Buffer.from(config.JWT_SIGNING_KEY.d, 'base64url'),
      'plaza',
      'refresh token successor',
      32,
    ),
  )
  const successorOf = (spent: string) =>
    createHmac('sha256', successorKey).update(spent).digest('base64url')

  /**
   * `name` rides in the token so the edge never reads it per send or connect; `role` so it
   * can refuse a dashboard to a non-admin without a read (a grant or revoke shows in tokens
   * issued after it: at most ACCESS_TOKEN_TTL_SECONDS late).
   */
  async function accessToken(userId: string, name: string, role: string): Promise<string> {
    return new SignJWT({ name, role })
      .setProtectedHeader({ alg: 'EdDSA', kid: config.JWT_SIGNING_KEY.kid, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(config.JWT_ISSUER)
      .setAudience(config.JWT_AUDIENCE)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${config.ACCESS_TOKEN_TTL_SECONDS}s`)
      .setJti(newId())
      .sign(await signingKey)
  }

  /**
   * A new pair: `refreshToken` random for a sign-in, or a spent token's successor (inserted
   * once: a retry or a concurrent rotation finds it there and returns it unchanged).
   */
  async function issue(
    db: Db,
    userId: string,
    familyId: string = newId(),
    refreshToken = randomBytes(32).toString('base64url'),
  ): Promise<Tokens> {
    const now = new Date()
    await db
      .insert(refreshTokens)
      .values({
        id: newId(),
        userId,
        familyId,
        tokenHash: sha256(refreshToken),
        expiresAt: new Date(now.getTime() + refreshTtlSeconds * 1000),
        createdAt: now,
      })
      .onDuplicateKeyUpdate({ set: { tokenHash: sha256(refreshToken) } })
    // The display name and role as of sign-in or refresh: changes show in tokens issued after.
    const [[profile], [user]] = await Promise.all([
      db
        .select({ name: profiles.displayName })
        .from(profiles)
        .where(eq(profiles.userId, userId))
        .limit(1),
      db.select({ role: users.role }).from(users).where(eq(users.id, userId)).limit(1),
    ])
    return {
      tokenType: 'Bearer',
      accessToken: await accessToken(userId, profile?.name ?? '', user?.role ?? 'user'),
      expiresIn: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshToken,
      refreshExpiresIn: refreshTtlSeconds,
    }
  }

  async function revokeFamily(db: Db, familyId: string): Promise<void> {
    await db
      .update(refreshTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
  }

  const byHash = async (db: Db, token: string) =>
    (
      await db
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, sha256(token)))
        .limit(1)
    )[0]

  /** Spends `presented` and returns a new pair in the same family. */
  async function rotate(db: Db, presented: string): Promise<Tokens> {
    let row = await byHash(db, presented)
    if (!row) throw invalid('Unknown refresh token')
    if (row.revokedAt) throw invalid('Refresh token revoked')
    if (row.expiresAt.getTime() < Date.now()) throw invalid('Refresh token expired')
    if (!row.rotatedAt) {
      const [spent] = await db
        .update(refreshTokens)
        .set({ rotatedAt: new Date() })
        .where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.rotatedAt)))
      // Lost a race with a concurrent use: judge it as the retry it is (below).
      if ((spent as { affectedRows?: number }).affectedRows !== 1) row = await byHash(db, presented)
      else return issue(db, row.userId, row.familyId, successorOf(presented))
    }
    const successor = successorOf(presented)
    const rotatedAt = row?.rotatedAt?.getTime() ?? 0
    if (
      row &&
      !row.revokedAt &&
      Date.now() - rotatedAt <= config.REFRESH_RETRY_GRACE_SECONDS * 1000
    ) {
      const next = await byHash(db, successor)
      // Unspent (or not yet written by the concurrent use): the same successor again.
      if (!next || (!next.rotatedAt && !next.revokedAt)) {
        return issue(db, row.userId, row.familyId, successor)
      }
    }
    if (row) await revokeFamily(db, row.familyId)
    throw reuse()
  }

  /** Signs out the session `presented` belongs to. Unknown tokens are ignored: no oracle. */
  async function revoke(db: Db, presented: string): Promise<void> {
    const [row] = await db
      .select({ familyId: refreshTokens.familyId })
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, sha256(presented)))
      .limit(1)
    if (row) await revokeFamily(db, row.familyId)
  }

  return { issue, rotate, revoke }
}
export type TokenIssuer = ReturnType<typeof tokenIssuer>
