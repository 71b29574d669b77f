import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../../origin/auth/passwords'
import { newId } from '../../../shared/ids'
import { signRequest } from '../../../shared/internal/signature'
import { databaseUrl } from '../../support/env'
import { type OriginProcess, startOrigin } from '../../support/origin'

const secret = 'origin-test-secret-0123456789abcdef01'
let origin: OriginProcess

beforeAll(async () => {
  origin = await startOrigin({
    EDGE_SIGNING_SECRET: secret,
    ORIGIN_WORKERS: '2',
    DATABASE_URL: databaseUrl('plaza_test'),
  })
})

afterAll(async () => {
  await origin?.stop()
})

async function post(path: string, headers: Record<string, string>, body = '{"x":1}') {
  const res = await fetch(`${origin.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })
  return { status: res.status, body: await res.json() }
}

const sign = (
  path: string,
  body = '{"x":1}',
  extra: { timestamp?: number; userId?: string } = {},
) =>
  signRequest(secret, {
    method: 'POST',
    pathWithQuery: path,
    userId: extra.userId ?? 'user-1',
    body: new TextEncoder().encode(body),
    timestamp: extra.timestamp,
  })

describe('origin trust boundary', () => {
  it('answers 401 JSON to a request without a signature', async () => {
    const res = await post('/v1/anything', {})
    expect(res).toEqual({
      status: 401,
      body: {
        error: {
          code: 'unauthorized',
          message: 'Request not signed by the edge: missing signature',
        },
      },
    })
  })

  it('answers 401 to a stale signature', async () => {
    const headers = await sign('/v1/anything', '{"x":1}', { timestamp: Date.now() - 60_000 })
    expect((await post('/v1/anything', headers)).body.error.message).toMatch(/stale signature/)
  })

  it('answers 401 to a tampered body, path or user', async () => {
    const headers = await sign('/v1/anything')
    expect((await post('/v1/anything', headers, '{"x":2}')).status).toBe(401)
    expect((await post('/v1/other', headers)).status).toBe(401)
    expect((await post('/v1/anything', { ...headers, 'x-plaza-user': 'admin' })).status).toBe(401)
    expect((await post('/internal/anything', {})).status).toBe(401)
  })

  it('lets a correctly signed request through to routing', async () => {
    const headers = await sign('/v1/no-such-route')
    expect(await post('/v1/no-such-route', headers)).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'No route for POST /v1/no-such-route' } },
    })
  })

  it('gives a signed write its effect once: an exact replay inside the window is refused', async () => {
    const owner = newId()
    const body = JSON.stringify({ name: 'once only' })
    const headers = await sign('/v1/rooms', body, { userId: owner })
    const first = await post('/v1/rooms', headers, body)
    expect(first.status).toBe(201)
    const replay = await post('/v1/rooms', headers, body)
    expect(replay).toEqual({
      status: 401,
      body: {
        error: {
          code: 'unauthorized',
          message: 'Request not signed by the edge: replayed signature',
        },
      },
    })
    const db = await mysql.createConnection(databaseUrl('plaza_test'))
    const [rows] = await db.query('SELECT count(*) AS n FROM rooms WHERE owner_id = ?', [owner])
    await db.end()
    expect(rows).toEqual([{ n: 1 }])
  })

  it('gives two identical writes signed in the same millisecond an effect each: the nonce tells them apart', async () => {
    const owner = newId()
    const body = JSON.stringify({ name: 'twice, on purpose' })
    const timestamp = Date.now()
    const first = await sign('/v1/rooms', body, { userId: owner, timestamp })
    const second = await sign('/v1/rooms', body, { userId: owner, timestamp })
    expect((await post('/v1/rooms', first, body)).status).toBe(201)
    expect((await post('/v1/rooms', second, body)).status).toBe(201)
    // Each is still a write with one effect: an exact replay of either is refused.
    expect((await post('/v1/rooms', second, body)).status).toBe(401)
    const db = await mysql.createConnection(databaseUrl('plaza_test'))
    const [rows] = await db.query('SELECT count(*) AS n FROM rooms WHERE owner_id = ?', [owner])
    await db.end()
    expect(rows).toEqual([{ n: 2 }])
  })

  it('rehashes a password made at an older scrypt cost at the next successful sign-in', async () => {
    const db = await mysql.createConnection(databaseUrl('plaza_test'))
    const id = newId()
    const email = `${id.toLowerCase()}@rehash.test`
    const old = await hashPassword('correct horse battery', {
      cost: 512,
      blockSize: 8,
      parallelism: 1,
    })
    await db.query(
      'INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, NOW(3))',
      [id, email, old],
    )
    await db.query(
      "INSERT INTO profiles (user_id, display_name, bio, created_at, updated_at) VALUES (?, 'Old', '', NOW(3), NOW(3))",
      [id],
    )
    const body = JSON.stringify({ email, password: 'correct horse battery' })
    const login = await post(
      '/v1/auth/login',
      await sign('/v1/auth/login', body, { userId: '' }),
      body,
    )
    expect(login.status).toBe(200)
    const [rows] = await db.query('SELECT password_hash AS hash FROM users WHERE id = ?', [id])
    await db.end()
    const hash = (rows as Array<{ hash: string }>)[0]!.hash
    expect(hash).not.toBe(old)
    expect(hash.startsWith('scrypt$1024$8$1$')).toBe(true) // the origin's configured cost
  })

  it('reports liveness and readiness of MariaDB and Redis', async () => {
    const health = await fetch(`${origin.url}/health`)
    expect(health.status).toBe(200)
    const ready = await fetch(`${origin.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      parts: { database: { status: 'up' }, redis: { status: 'up' } },
    })
  })

  it('logs JSON lines carrying the request id, and never the signature', async () => {
    const headers = await sign('/v1/logged')
    await fetch(`${origin.url}/v1/logged`, {
      method: 'POST',
      headers: { ...headers, 'x-request-id': 'req-logged-123', 'content-type': 'application/json' },
      body: '{"x":1}',
    })
    await new Promise((r) => setTimeout(r, 200))
    const line = origin.logs.map((l) => JSON.parse(l)).find((l) => l.reqId === 'req-logged-123')
    expect(line).toMatchObject({ path: '/v1/logged', status: 404, msg: 'request' })
    expect(origin.logs.join('\n')).not.toContain(headers['x-plaza-signature'])
  })
})

describe('origin configuration', () => {
  it('refuses to start without its signing secret, naming the variable', async () => {
    await expect(startOrigin({ EDGE_SIGNING_SECRET: '' })).rejects.toThrow(
      /EDGE_SIGNING_SECRET is required but not set/,
    )
  })
})
