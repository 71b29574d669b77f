import type { MiddlewareHandler } from 'hono'
import { jwtVerify } from 'jose'
import type { EdgeConfig } from '../../shared/config'
import { ApiError } from '../../shared/errors'
import { idPattern } from '../../shared/ids'
import { clients } from '../clients'
import type { ConfigVariables } from './config'
import { type AccessClaims, VerifiedTokens } from './verified-tokens'

export type AuthVariables = {
  /** Set by auth once a token verifies; empty for anonymous requests. */
  userId: string
  /** Expiry (unix seconds) of the verified access token. */
  tokenExp: number
  /** The display name the token carries (as of sign-in or refresh); empty if it has none. */
  userName: string
  /** The role the token carries (`user` or `admin`; tokens without one are `user`). */
  userRole: string
}
type AuthEnv = { Variables: ConfigVariables & AuthVariables }

const rejected = (description: string) =>
  new ApiError('unauthorized', `Access token rejected: ${description}`, {
    headers: {
      'WWW-Authenticate': `Bearer error="invalid_token", error_description="${description}"`,
    },
  })

/** Per config (its keys): a new configuration starts with nothing verified. */
const verifiedBy = new WeakMap<EdgeConfig, VerifiedTokens>()

/** Verifies an access token (see `authenticate`); throws 401 saying why not. */
export async function verifyAccessToken(config: EdgeConfig, token: string): Promise<AccessClaims> {
  const verified = verifiedBy.get(config) ?? new VerifiedTokens()
  verifiedBy.set(config, verified)
  const known = verified.get(token)
  if (known) return known
  const claims = await verifyWithKeys(config, token)
  verified.set(token, claims)
  return claims
}

async function verifyWithKeys(config: EdgeConfig, token: string): Promise<AccessClaims> {
  try {
    const { payload } = await jwtVerify(token, clients(config).jwks, {
      algorithms: ['EdDSA'],
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      clockTolerance: 5,
      requiredClaims: ['exp', 'sub'],
    })
    if (!payload.sub || !idPattern.test(payload.sub)) throw rejected('invalid subject')
    const name = typeof payload.name === 'string' ? payload.name.slice(0, 64) : ''
    const role = payload.role === 'admin' ? 'admin' : 'user'
    return { sub: payload.sub, exp: payload.exp as number, name, role }
  } catch (err) {
    if (err instanceof ApiError) throw err
    const code = (err as { code?: string }).code ?? ''
    throw rejected(
      code === 'ERR_JWT_EXPIRED'
        ? 'expired'
        : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
          ? 'claim check failed'
          : 'invalid',
    )
  }
}

/**
 * Verifies a bearer access token with the public keys only (the edge can never mint one):
 * EdDSA alone, so `alg: none` and HS256-with-the-public-key are refused; issuer, audience,
 * expiry and not-before are checked. A request without a token stays anonymous; one with a
 * bad token is 401 — never silently downgraded.
 */
export function authenticate(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    c.set('userId', '')
    c.set('userName', '')
    c.set('userRole', 'user')
    const header = c.req.header('authorization')
    if (!header) return next()
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/.exec(header)
    if (!match?.[1]) throw rejected('malformed Authorization header')
    const { sub, exp, name, role } = await verifyAccessToken(c.get('config'), match[1])
    c.set('tokenExp', exp)
    c.set('userId', sub)
    c.set('userName', name)
    c.set('userRole', role)
    return next()
  }
}

/** For routes that need a signed-in user. */
export function requireAuth(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (!c.get('userId')) {
      throw new ApiError(
        'unauthorized',
        'Sign in first: send Authorization: Bearer <access token>',
        {
          headers: { 'WWW-Authenticate': 'Bearer' },
        },
      )
    }
    return next()
  }
}

/** For routes only admins may use (`npm run admin:grant`): 403 for anyone else. */
export function requireAdmin(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (c.get('userRole') !== 'admin') throw new ApiError('forbidden', 'Admins only')
    return next()
  }
}
