import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setRole } from '../../dev/admin'
import type { Stack } from '../../dev/stack'
import { apiClient, freshEmail, freshIp } from '../support/api'
import { select } from '../support/db'
import { databaseUrl } from '../support/env'
import { privateRedis } from '../support/redis-server'
import { createRoom, join, registerUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// The admin dashboard's metrics (analytics issue, first route): admins only, read from the
// hourly rollups through the edge's cache, equal to SQL over the messages themselves.
let stack: Stack
let redis: Awaited<ReturnType<typeof privateRedis>>
let db: mysql.Connection

beforeAll(async () => {
  // Its own Redis: the dashboard is cached globally, and another run's entry would answer.
  redis = await privateRedis()
  stack = await startTestStack({ redisUrl: redis.url })
  db = await mysql.createConnection(databaseUrl('plaza_it'))
}, 60_000)

afterAll(async () => {
  await db?.end()
  await stack?.stop()
  await redis?.stop()
})

async function adminToken(): Promise<string> {
  const api = apiClient(stack.urls.edge, { ip: freshIp() })
  const email = freshEmail('admin')
  const password = 'correct horse battery'
  await api('/v1/auth/register', { method: 'POST', json: { email, password, displayName: 'Op' } })
  expect(await setRole(databaseUrl('plaza_it'), email, 'admin')).toBe(true)
  const login = await api('/v1/auth/login', { method: 'POST', json: { email, password } })
  return login.body.tokens.accessToken
}

describe('GET /v1/dashboard/metrics', () => {
  it('answers admins with counts equal to SQL over the messages; 403 for anyone else', async () => {
    const [ada, bob] = [await registerUser(stack, 'Ada'), await registerUser(stack, 'Bob')]
    const rooms = [await createRoom(stack, ada), await createRoom(stack, bob)]
    const sockets = [
      await join(stack, ada, rooms[0]!),
      await join(stack, bob, rooms[0]!),
      await join(stack, bob, rooms[1]!),
    ]
    for (let i = 0; i < 9; i++) await sockets[i % 3]!.send(`m${i}`)
    await until('all nine in MySQL', async () => {
      const [row] = await select<{ n: number }>(
        db,
        'SELECT count(*) AS n FROM messages WHERE room_id IN (?)',
        [rooms],
      )
      return Number(row!.n) === 9
    })
    for (const s of sockets) s.close()

    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const refused = await api('/v1/dashboard/metrics?period=24h', { token: ada.token })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('forbidden')
    expect((await api('/v1/dashboard/metrics?period=24h')).status).toBe(401)

    const token = await adminToken()
    const res = await api('/v1/dashboard/metrics?period=24h', { token })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-cache')).toBe('MISS')
    const from = new Date(res.body.from)
    const [sql] = await select<{ messages: number; rooms: number; users: number }>(
      db,
      '/* test */ SELECT count(*) AS messages, count(DISTINCT room_id) AS rooms, count(DISTINCT author_id) AS users FROM messages WHERE created_at >= ?',
      [from],
    )
    const [accounts] = await select<{ n: number }>(
      db,
      '/* test */ SELECT count(*) AS n FROM users WHERE created_at >= ?',
      [from],
    )
    expect(res.body.totals).toEqual({
      messages: Number(sql!.messages),
      activeRooms: Number(sql!.rooms),
      activeUsers: Number(sql!.users),
      newAccounts: Number(accounts!.n),
    })
    expect(res.body.totals.messages).toBe(9)
    expect(res.body.totals.activeUsers).toBe(2)
    expect(res.body.bucket).toBe('hour')
    expect(res.body.buckets).toHaveLength(24)
    expect(res.body.buckets.reduce((n: number, b: { messages: number }) => n + b.messages, 0)).toBe(
      9,
    )
    expect((await api('/v1/dashboard/metrics?period=24h', { token })).headers.get('x-cache')).toBe(
      'HIT',
    )
    expect((await api('/v1/dashboard/metrics?period=7d', { token })).body.buckets).toHaveLength(7)
    expect((await api('/v1/dashboard/metrics?period=2y', { token })).status).toBe(400)
  })

  it('allows an admin 10 a minute (seed 002), then 429 with Retry-After', async () => {
    const token = await adminToken()
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    for (let i = 0; i < 10; i++)
      expect((await api('/v1/dashboard/metrics?period=1h', { token })).status).toBe(200)
    const limited = await api('/v1/dashboard/metrics?period=1h', { token })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it("shows a room's statistics to its owner and admins: equal to SQL; 403 for others, 404 for a hidden room", async () => {
    const [owner, other] = [await registerUser(stack, 'Owner'), await registerUser(stack, 'Other')]
    const roomId = await createRoom(stack, owner)
    const hidden = await createRoom(stack, owner, true)
    const sockets = [await join(stack, owner, roomId), await join(stack, other, roomId)]
    for (let i = 0; i < 6; i++) await sockets[i % 2]!.send(`s${i}`)
    await until('the six in MySQL', async () => {
      const [row] = await select<{ n: number }>(
        db,
        '/* test */ SELECT count(*) AS n FROM messages WHERE room_id = ?',
        [roomId],
      )
      return Number(row!.n) === 6
    })
    for (const s of sockets) s.close()
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const path = `/v1/dashboard/messages/stats?roomId=${roomId}&period=24h`
    const mine = await api(path, { token: owner.token })
    expect(mine.status).toBe(200)
    expect(mine.headers.get('x-cache')).toBe('MISS')
    expect(mine.body.totals).toEqual({ messages: 6, authors: 2 })
    const rows = await select<{ hour: string; n: number; a: number }>(
      db,
      "SELECT date_format(created_at, '%Y-%m-%d %H:00:00') AS hour, count(*) AS n, count(DISTINCT author_id) AS a FROM messages WHERE room_id = ? GROUP BY hour",
      [roomId],
    )
    for (const r of rows) {
      const bucket = mine.body.buckets.find(
        (b: { start: string }) => b.start === `${r.hour.replace(' ', 'T')}.000Z`,
      )
      expect([bucket?.messages, bucket?.authors]).toEqual([Number(r.n), Number(r.a)])
    }
    expect((await api(path, { token: owner.token })).headers.get('x-cache')).toBe('HIT')
    expect((await api(path, { token: await adminToken() })).status).toBe(200)
    const refused = await api(path, { token: other.token })
    expect(refused.status).toBe(403)
    const hiddenPath = `/v1/dashboard/messages/stats?roomId=${hidden}`
    expect((await api(hiddenPath, { token: other.token })).status).toBe(404)
    expect((await api(hiddenPath, { token: owner.token })).status).toBe(200)
  })

  it('is in the OpenAPI document', async () => {
    const doc = await (await fetch(`${stack.urls.edge}/openapi.json`)).json()
    expect(doc.paths['/v1/dashboard/metrics'].get.responses).toHaveProperty('403')
    expect(doc.paths['/v1/dashboard/messages/stats'].get.responses).toHaveProperty('404')
  })
})
