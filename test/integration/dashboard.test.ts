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

  it('lists recent activity newest first, per room and hour, equal to SQL; pages by cursor', async () => {
    const token = await adminToken()
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const rows = await select<{ hour: string; room_id: string; n: number; a: number }>(
      db,
      "/* test */ SELECT date_format(created_at, '%Y-%m-%d %H:00:00') AS hour, room_id, count(*) AS n, count(DISTINCT author_id) AS a FROM messages GROUP BY hour, room_id ORDER BY hour DESC, room_id DESC",
    )
    expect(rows.length).toBeGreaterThanOrEqual(3)
    const expected = rows.map((r) => ({
      hour: `${r.hour.replace(' ', 'T')}.000Z`,
      roomId: r.room_id,
      messages: Number(r.n),
      authors: Number(r.a),
    }))
    const first = await api('/v1/dashboard/recent-activity?limit=2', { token })
    expect(first.status).toBe(200)
    expect(first.headers.get('x-cache')).toBe('MISS')
    expect(first.body.items).toHaveLength(2)
    expect(first.body.items[0].roomName).toMatch(/^room /)
    const all = [...first.body.items]
    let cursor = first.body.nextCursor
    while (cursor) {
      const page = await api(`/v1/dashboard/recent-activity?limit=2&cursor=${cursor}`, { token })
      all.push(...page.body.items)
      cursor = page.body.nextCursor
    }
    expect(all.map(({ roomName: _, ...item }) => item)).toEqual(expected)
    const again = await api('/v1/dashboard/recent-activity?limit=2', { token })
    expect(again.headers.get('x-cache')).toBe('HIT')
    const bad = await api('/v1/dashboard/recent-activity?cursor=nope', { token })
    expect(bad.status).toBe(400)
    const user = await registerUser(stack, 'Plain')
    expect((await api('/v1/dashboard/recent-activity', { token: user.token })).status).toBe(403)
  })

  it('exports the period as streamed CSV, kept an hour (HIT); the sixth in a minute is 429', async () => {
    const token = await adminToken()
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const res = await api('/v1/dashboard/export?format=csv&period=24h', { token })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/)
    expect(res.headers.get('content-disposition')).toMatch(
      /^attachment; filename="plaza-messages-24h-.+\.csv"$/,
    )
    expect(res.headers.get('x-cache')).toBe('MISS')
    const lines = (res.body as string).trimEnd().split('\n')
    expect(lines[0]).toBe('created_at,room_id,seq,message_id,author_id,body_bytes')
    const [count] = await select<{ n: number }>(
      db,
      '/* test */ SELECT count(*) AS n FROM messages WHERE created_at >= now() - INTERVAL 1 DAY',
    )
    expect(lines.length - 1).toBe(Number(count!.n))
    const [row] = await select<{ id: string; room_id: string; seq: number; author_id: string }>(
      db,
      '/* test */ SELECT id, room_id, seq, author_id FROM messages LIMIT 1',
    )
    expect(lines).toContainEqual(
      expect.stringContaining(`,${row!.room_id},${row!.seq},${row!.id},${row!.author_id},`),
    )
    const again = await api('/v1/dashboard/export?format=csv&period=24h', { token })
    expect(again.headers.get('x-cache')).toBe('HIT')
    expect(again.body).toBe(res.body)
    expect((await api('/v1/dashboard/export?format=pdf', { token })).status).toBe(400)
    for (let i = 0; i < 2; i++)
      expect((await api('/v1/dashboard/export?format=csv&period=1h', { token })).status).toBe(200)
    const limited = await api('/v1/dashboard/export?format=csv&period=1h', { token })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    const user = await registerUser(stack, 'Plain')
    expect((await api('/v1/dashboard/export?format=csv', { token: user.token })).status).toBe(403)
  })

  it("reports the origin's latency percentiles and errors per route, never cached", async () => {
    const token = await adminToken()
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const owner = await registerUser(stack, 'Perf')
    for (let i = 0; i < 3; i++) await createRoom(stack, owner)
    const bad = await api('/v1/rooms', { method: 'POST', token: owner.token, json: { name: '' } })
    expect(bad.status).toBe(422)
    const res = await api('/v1/dashboard/performance?period=1h', { token })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-cache')).toBeNull()
    const rooms = res.body.routes.find((r: { route: string }) => r.route === 'POST /v1/rooms')
    expect(rooms.requests).toBeGreaterThanOrEqual(4)
    expect(rooms.clientErrors).toBeGreaterThanOrEqual(1)
    expect(rooms.p50Ms).toBeGreaterThan(0)
    expect(rooms.p99Ms).toBeGreaterThanOrEqual(rooms.p50Ms)
    const later = await api('/v1/dashboard/performance?period=1h', { token })
    const roomsLater = later.body.routes.find(
      (r: { route: string }) => r.route === 'POST /v1/rooms',
    )
    expect(later.headers.get('x-cache')).toBeNull()
    expect(roomsLater.requests).toBe(rooms.requests)
    expect((await api('/v1/dashboard/performance?period=7d', { token })).status).toBe(400)
    expect((await api('/v1/dashboard/performance', { token: owner.token })).status).toBe(403)
  })

  it('is in the OpenAPI document', async () => {
    const doc = await (await fetch(`${stack.urls.edge}/openapi.json`)).json()
    expect(doc.paths['/v1/dashboard/metrics'].get.responses).toHaveProperty('403')
    expect(doc.paths['/v1/dashboard/messages/stats'].get.responses).toHaveProperty('404')
    for (const path of ['recent-activity', 'export', 'performance', 'live'])
      expect(doc.paths[`/v1/dashboard/${path}`].get.description).toMatch(/^Admins only/)
  })
})
