import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import { apiClient, freshEmail, freshIp } from '../support/api'
import { startTestStack } from '../support/stack'

let stack: Stack
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  stack = await startTestStack({
    originWorkers: 2,
  })
  api = apiClient(stack.urls.edge)
})

afterAll(async () => {
  await stack?.stop()
})

async function register(ip: string, displayName = 'Ada Lovelace') {
  const email = freshEmail()
  const res = await api('/v1/auth/register', {
    method: 'POST',
    ip,
    json: { email, password: 'correct horse battery', displayName },
  })
  expect(res.status).toBe(201)
  return { email, ...res.body }
}

describe('accounts and profiles, as a client sees them', () => {
  it('register → login → cached reads → PATCH → fresh read everywhere → 304 → refresh rotation → a retry gets the same successor → reuse revokes', async () => {
    const ip = freshIp()
    const other = freshIp()
    const reg = await register(ip)
    expect(reg.user.email).toBe(reg.email)
    expect(reg.tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 })

    const login = await api('/v1/auth/login', {
      method: 'POST',
      ip,
      json: { email: reg.email.toUpperCase(), password: 'correct horse battery' },
    })
    expect(login.status).toBe(200)
    const { accessToken, refreshToken } = login.body.tokens
    const id = login.body.user.id

    const me = await api('/v1/me', { ip, token: accessToken })
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ id, email: reg.email })
    expect(me.headers.get('cache-control')).toContain('no-store')
    expect(me.headers.get('x-cache')).toBeNull()

    const first = await api(`/v1/profiles/${id}`, { ip })
    expect(first.status).toBe(200)
    expect(first.headers.get('x-cache')).toBe('MISS')
    expect(first.body).toMatchObject({ id, displayName: 'Ada Lovelace', bio: '' })
    const second = await api(`/v1/profiles/${id}`, { ip })
    expect(second.headers.get('x-cache')).toBe('HIT')
    expect(second.body).toEqual(first.body)

    const patched = await api(`/v1/profiles/${id}`, {
      method: 'PATCH',
      ip,
      token: accessToken,
      json: { bio: 'Analytical engines', location: 'London' },
    })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ bio: 'Analytical engines', location: 'London' })

    // Immediately, from a second client: the new value, never the cached old one.
    const fresh = await api(`/v1/profiles/${id}`, { ip: other })
    expect(fresh.status).toBe(200)
    expect(fresh.headers.get('x-cache')).toBe('MISS')
    expect(fresh.body).toMatchObject({ bio: 'Analytical engines', location: 'London' })
    const etag = fresh.headers.get('etag')!
    expect(etag).toMatch(/^W\/"/)
    const notModified = await api(`/v1/profiles/${id}`, {
      ip: other,
      headers: { 'if-none-match': etag },
    })
    expect(notModified.status).toBe(304)
    expect(notModified.headers.get('x-cache')).toBe('HIT')

    const rotated = await api('/v1/auth/refresh', { method: 'POST', ip, json: { refreshToken } })
    expect(rotated.status).toBe(200)
    expect(rotated.body.refreshToken).not.toBe(refreshToken)
    const newer = rotated.body.refreshToken
    expect((await api('/v1/me', { ip, token: rotated.body.accessToken })).status).toBe(200)

    // A retry (the response was lost) within REFRESH_RETRY_GRACE_SECONDS: the same successor.
    const retried = await api('/v1/auth/refresh', { method: 'POST', ip, json: { refreshToken } })
    expect(retried.status).toBe(200)
    expect(retried.body.refreshToken).toBe(newer)
    const newest = await api('/v1/auth/refresh', {
      method: 'POST',
      ip,
      json: { refreshToken: newer },
    })
    expect(newest.status).toBe(200)

    // Once its successor is spent, the old token is reuse.
    const reused = await api('/v1/auth/refresh', { method: 'POST', ip, json: { refreshToken } })
    expect(reused.status).toBe(401)
    expect(reused.body.error.message).toMatch(/already used/)
    // The reuse revoked the whole family: the newest token is dead too.
    const afterReuse = await api('/v1/auth/refresh', {
      method: 'POST',
      ip,
      json: { refreshToken: newest.body.refreshToken },
    })
    expect(afterReuse.status).toBe(401)
    expect(afterReuse.body.error.message).toMatch(/revoked/)
  })

  it('lists profiles with a stable cursor and sees a new sign-up at once', async () => {
    const ip = freshIp()
    const seen = new Set<string>()
    let cursor: string | null = null
    for (let page = 0; page < 50; page++) {
      // biome-ignore lint/suspicious/noExplicitAny: a page of whatever the API answered.
      const res: { status: number; body: any } = await api(
        `/v1/profiles?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { ip },
      )
      expect(res.status).toBe(200)
      for (const p of res.body.items) {
        expect(seen.has(p.id)).toBe(false)
        seen.add(p.id)
      }
      cursor = res.body.nextCursor
      if (!cursor) break
    }
    const before = await api('/v1/profiles?limit=100', { ip })
    expect(['HIT', 'MISS']).toContain(before.headers.get('x-cache'))
    const reg = await register(ip, 'Newcomer')
    const after = await api('/v1/profiles?limit=100', { ip })
    expect(after.body.items.map((p: { id: string }) => p.id)).toContain(reg.user.id)
    expect((await api('/v1/profiles?limit=101', { ip })).status).toBe(400)
    expect((await api('/v1/profiles?cursor=%25%25bad', { ip })).status).toBe(400)
  })

  it('signs out: logout revokes the refresh token', async () => {
    const ip = freshIp()
    const reg = await register(ip)
    const out = await api('/v1/auth/logout', {
      method: 'POST',
      ip,
      json: { refreshToken: reg.tokens.refreshToken },
    })
    expect(out.status).toBe(204)
    const res = await api('/v1/auth/refresh', {
      method: 'POST',
      ip,
      json: { refreshToken: reg.tokens.refreshToken },
    })
    expect(res.status).toBe(401)
  })

  it('refuses a duplicate email with 409, whatever its case', async () => {
    const ip = freshIp()
    const reg = await register(ip)
    const dup = await api('/v1/auth/register', {
      method: 'POST',
      ip,
      json: {
        email: `  ${reg.email.toUpperCase()} `,
        password: 'another password',
        displayName: 'Copy',
      },
    })
    expect(dup.status).toBe(409)
    expect(dup.body.error.code).toBe('conflict')
  })

  it('a HIT makes one round trip to Redis, rate limit included', async () => {
    const ip = freshIp()
    const reg = await register(ip)
    const path = `/v1/profiles/${reg.user.id}`
    await api(path, { ip })
    await api(path, { ip })
    const before = stack.standIns.upstash.requests
    const hit = await api(path, { ip })
    const after = stack.standIns.upstash.requests
    expect(hit.headers.get('x-cache')).toBe('HIT')
    expect(after - before).toBe(1)
  })

  it('publishes OpenAPI 3.1 with every route and its errors, and a docs page', async () => {
    const doc = await api('/openapi.json')
    expect(doc.status).toBe(200)
    expect(doc.body.openapi).toBe('3.1.0')
    for (const path of [
      '/v1/auth/register',
      '/v1/auth/login',
      '/v1/auth/refresh',
      '/v1/me',
      '/v1/profiles/{id}',
    ]) {
      expect(Object.keys(doc.body.paths)).toContain(path)
    }
    expect(Object.keys(doc.body.paths['/v1/profiles/{id}'].patch.responses)).toEqual(
      expect.arrayContaining(['200', '401', '403', '404', '422', '429']),
    )
    const jwks = await api('/.well-known/jwks.json')
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519' })
    expect(jwks.body.keys[0].d).toBeUndefined()
    const page = await fetch(`${stack.urls.edge}/docs`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('/openapi.json')
  })
})
