import { request } from 'node:http'
import { importJWK, SignJWT } from 'jose'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSigningKey } from '../../dev/jwk'
import type { Stack } from '../../dev/stack'
import { apiClient, freshEmail, freshIp } from '../support/api'
import { databaseUrl } from '../support/env'
import { startTestStack } from '../support/stack'

let stack: Stack
let db: mysql.Connection
let api: ReturnType<typeof apiClient>
let victim: { id: string; token: string; refreshToken: string }
let attacker: { id: string; token: string }
const password = 'correct horse battery'
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')

beforeAll(async () => {
  stack = await startTestStack()
  db = await mysql.createConnection({ uri: databaseUrl('plaza_it') })
  api = apiClient(stack.urls.edge)
  const make = async (name: string) => {
    const res = await api('/v1/auth/register', {
      method: 'POST',
      ip: freshIp(),
      json: { email: freshEmail(name), password, displayName: name },
    })
    return {
      id: res.body.user.id,
      token: res.body.tokens.accessToken,
      refreshToken: res.body.tokens.refreshToken,
    }
  }
  victim = await make('victim')
  attacker = await make('attacker')
})

afterAll(async () => {
  await db?.end()
  await stack?.stop()
})

const counts = async () => {
  const [[row]] = (await db.query(
    // A test's own whole-table count, marked so the shard-key test knows it is not the product's.
    '/* test */ SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM profiles) AS profiles, (SELECT COUNT(*) FROM refresh_tokens) AS tokens',
  )) as unknown as [[Record<string, number>]]
  return row
}
const victimProfile = async () => {
  const [[row]] = (await db.query(
    'SELECT display_name, bio, location, avatar_url FROM profiles WHERE user_id = ?',
    [victim.id],
  )) as unknown as [[Record<string, unknown>]]
  return row
}

/** Signs a token with the stack's real private key, with claims the test chooses. */
async function forge(
  claims: Record<string, unknown>,
  options: { expiresIn?: string; issuer?: string } = {},
) {
  const jwk = JSON.parse(stack.secrets.jwtSigningKey)
  const key = await importJWK(jwk, 'EdDSA')
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid })
    .setSubject(victim.id)
    .setIssuer(options.issuer ?? 'plaza')
    .setAudience('plaza-api')
    .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
  jwt.setExpirationTime(options.expiresIn ?? '15m')
  return jwt.sign(key)
}

async function expectRejectedToken(token: string, description: RegExp) {
  const before = await victimProfile()
  const read = await api('/v1/me', { ip: freshIp(), token })
  expect(read.status).toBe(401)
  expect(read.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
  expect(read.body.error.message).toMatch(description)
  const write = await api(`/v1/profiles/${victim.id}`, {
    method: 'PATCH',
    ip: freshIp(),
    token,
    json: { bio: 'pwned' },
  })
  expect(write.status).toBe(401)
  expect(await victimProfile()).toEqual(before)
}

describe('token attacks at the edge', () => {
  it('refuses alg: none', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: victim.id, iss: 'plaza', aud: 'plaza-api', exp: Math.floor(Date.now() / 1000) + 600 })}.`
    await expectRejectedToken(token, /invalid/)
  })

  it('refuses an HS256 token signed with the public key', async () => {
    const jwks = JSON.parse(stack.edgeVars.JWT_JWKS!)
    const publicJwk = jwks.keys[0]
    for (const secret of [
      JSON.stringify(jwks),
      JSON.stringify(publicJwk),
      Buffer.from(publicJwk.x, 'base64url'),
    ]) {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid })
        .setSubject(victim.id)
        .setIssuer('plaza')
        .setAudience('plaza-api')
        .setExpirationTime('15m')
        .sign(
          typeof secret === 'string' ? new TextEncoder().encode(secret) : new Uint8Array(secret),
        )
      await expectRejectedToken(token, /invalid/)
    }
  })

  it('refuses an expired token', async () => {
    await expectRejectedToken(await forge({}, { expiresIn: '-10m' }), /expired/)
  })

  it('refuses a tampered payload', async () => {
    const [header, , signature] = attacker.token.split('.')
    const payload = JSON.parse(Buffer.from(attacker.token.split('.')[1]!, 'base64url').toString())
    const tampered = `${header}.${b64({ ...payload, sub: victim.id })}.${signature}`
    await expectRejectedToken(tampered, /invalid/)
  })

  it('refuses a token from another issuer, and one signed by another key', async () => {
    await expectRejectedToken(
      await forge({}, { issuer: 'https://evil.example' }),
      /claim check failed/,
    )
    const other = await generateSigningKey(JSON.parse(stack.secrets.jwtSigningKey).kid)
    const key = await importJWK(JSON.parse(other.privateJwk), 'EdDSA')
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: JSON.parse(other.privateJwk).kid })
      .setSubject(victim.id)
      .setIssuer('plaza')
      .setAudience('plaza-api')
      .setExpirationTime('15m')
      .sign(key)
    await expectRejectedToken(token, /invalid/)
  })
})

describe('authorization and input at the origin', () => {
  it("refuses to PATCH another user's profile (403), changing nothing", async () => {
    const before = await victimProfile()
    const res = await api(`/v1/profiles/${victim.id}`, {
      method: 'PATCH',
      ip: freshIp(),
      token: attacker.token,
      json: { displayName: 'owned' },
    })
    expect(res.status).toBe(403)
    expect(res.body.error.code).toBe('forbidden')
    expect(await victimProfile()).toEqual(before)
  })

  it('stores SQL metacharacters literally, and rejects 10 KB strings in every field with 422', async () => {
    const sqlish = `Robert'); DROP TABLE users;-- "\\ %_`
    const ok = await api(`/v1/profiles/${victim.id}`, {
      method: 'PATCH',
      ip: freshIp(),
      token: victim.token,
      json: { displayName: sqlish.slice(0, 64), bio: sqlish, location: sqlish },
    })
    expect(ok.status).toBe(200)
    expect(await victimProfile()).toMatchObject({
      display_name: sqlish.slice(0, 64),
      bio: sqlish,
      location: sqlish,
    })

    const before = await counts()
    const profileBefore = await victimProfile()
    const huge = 'x'.repeat(10 * 1024)
    for (const field of ['displayName', 'bio', 'location', 'avatarUrl']) {
      const res = await api(`/v1/profiles/${victim.id}`, {
        method: 'PATCH',
        ip: freshIp(),
        token: victim.token,
        json: { [field]: field === 'avatarUrl' ? `https://x.example/${huge}` : huge },
      })
      expect(res.status, field).toBe(422)
      expect(res.body.error.details[0].path).toBe(field)
    }
    for (const body of [
      { email: `${huge}@x.test`, password, displayName: 'x' },
      { email: freshEmail(), password: huge + huge + huge, displayName: 'x' },
      { email: freshEmail(), password, displayName: huge },
      { email: "a'; DROP TABLE users;--", password, displayName: 'x' },
    ]) {
      const res = await api('/v1/auth/register', { method: 'POST', ip: freshIp(), json: body })
      expect(res.status).toBe(422)
    }
    const login = await api('/v1/auth/login', {
      method: 'POST',
      ip: freshIp(),
      json: { email: "' OR '1'='1", password: "' OR '1'='1" },
    })
    expect(login.status).toBe(422)
    expect(await counts()).toEqual(before)
    expect(await victimProfile()).toEqual(profileBefore)
  })

  /** A 200 KB PATCH on a fresh connection that is not reused. */
  const oversized = (url: string, token: string) =>
    new Promise<{ status: number; body: { error: { code: string } } }>((resolve, reject) => {
      const body = JSON.stringify({ bio: 'x'.repeat(200 * 1024) })
      const req = request(
        url,
        {
          method: 'PATCH',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${token}`,
            'cf-connecting-ip': freshIp(),
          },
        },
        (res) => {
          let text = ''
          res.on('data', (chunk) => {
            text += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }))
        },
      )
      req.on('error', reject)
      req.end(body)
    })

  it('rejects unknown fields, bad JSON, wrong content types and oversized bodies, writing nothing', async () => {
    const before = await counts()
    const patch = (init: { json?: unknown; body?: BodyInit; headers?: Record<string, string> }) =>
      api(`/v1/profiles/${victim.id}`, {
        method: 'PATCH',
        ip: freshIp(),
        token: victim.token,
        ...init,
      })
    expect((await patch({ json: { isAdmin: true } })).status).toBe(422)
    expect((await patch({ json: {} })).status).toBe(422)
    expect(
      (
        await patch({
          body: '{"bio": "unterminated',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(400)
    expect(
      (
        await patch({
          body: 'bio=hello',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).status,
    ).toBe(415)
    expect(
      (await patch({ body: '{"bio":"x"}', headers: { 'content-type': 'text/plain' } })).status,
    ).toBe(415)
    // On a connection of its own: a server may close the connection a too-large body
    // arrived on, and fetch's pool would hand that socket to the next request (reset).
    const big = await oversized(`${stack.urls.edge}/v1/profiles/${victim.id}`, victim.token)
    expect(big.status).toBe(413)
    expect(big.body.error.code).toBe('payload_too_large')
    const notJson = await api('/v1/auth/register', {
      method: 'POST',
      ip: freshIp(),
      body: 'email=a@b.c',
      headers: { 'content-type': 'text/plain' },
    })
    expect(notJson.status).toBe(415)
    expect(await counts()).toEqual(before)
  })

  it('never logs a password, a token or the signing secret', async () => {
    await new Promise((r) => setTimeout(r, 300))
    const logs = stack.origin.logs.join('\n')
    expect(logs.length).toBeGreaterThan(0)
    for (const secret of [
      password,
      victim.token,
      victim.refreshToken,
      attacker.token,
      stack.secrets.edgeSigningSecret,
    ]) {
      expect(logs).not.toContain(secret)
    }
    expect(logs).not.toContain(JSON.parse(stack.secrets.jwtSigningKey).d)
  })
})
