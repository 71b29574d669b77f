import { Redis } from 'ioredis'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rebuild } from '../../dev/rankings'
import type { Stack } from '../../dev/stack'
import { rankingKey } from '../../shared/rankings'
import { apiClient, freshIp } from '../support/api'
import { select } from '../support/db'
import { databaseUrl } from '../support/env'
import { postAsEdge } from '../support/origin'
import { privateRedis } from '../support/redis-server'
import { createRoom, join, registerUser, type TestUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// Rankings (seed 003, analytics issue): sorted sets kept at ingest, equal to SQL GROUP BY,
// ties sharing a rank, a re-shipped batch never counted twice, rebuilt after a Redis loss.
let stack: Stack
let redisServer: Awaited<ReturnType<typeof privateRedis>>
let redis: Redis
let db: mysql.Connection
const users: Record<'ada' | 'bob' | 'cy', TestUser> = {} as never
const roomIds: Record<'big' | 'small' | 'hidden', string> = {} as never

beforeAll(async () => {
  redisServer = await privateRedis()
  stack = await startTestStack({ redisUrl: redisServer.url })
  redis = new Redis(redisServer.url)
  db = await mysql.createConnection(databaseUrl('plaza_it'))
  for (const name of ['ada', 'bob', 'cy'] as const) users[name] = await registerUser(stack, name)
  roomIds.big = await createRoom(stack, users.ada)
  roomIds.small = await createRoom(stack, users.cy)
  roomIds.hidden = await createRoom(stack, users.ada, true)
  // ada 3 + 2 (in her private room) = 5, bob 5: a tie for first; cy 1.
  const plan: Array<[TestUser, string, number]> = [
    [users.ada, roomIds.big, 3],
    [users.bob, roomIds.big, 5],
    [users.cy, roomIds.small, 1],
    [users.ada, roomIds.hidden, 2],
  ]
  for (const [user, roomId, n] of plan) {
    const socket = await join(stack, user, roomId)
    for (let i = 0; i < n; i++) await socket.send(`${user.name} ${i}`)
    socket.close()
  }
  await until('all eleven in MySQL', async () => {
    const [row] = await select<{ n: number }>(
      db,
      'SELECT count(*) AS n FROM messages WHERE room_id IN (?)',
      [Object.values(roomIds)],
    )
    return Number(row!.n) === 11
  })
}, 90_000)

afterAll(async () => {
  redis?.disconnect()
  await db?.end()
  await stack?.stop()
  await redisServer?.stop()
})

const api = () => apiClient(stack.urls.edge, { ip: freshIp() })
async function scores(kind: 'rooms' | 'users') {
  const flat = await redis.zrange(rankingKey(kind, 'day', Date.now()), 0, -1, 'WITHSCORES')
  const out: Record<string, number> = {}
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = Number(flat[i + 1])
  return out
}

/** The same ranking from the messages themselves (public rooms only for rooms). */
async function fromSql(kind: 'rooms' | 'users') {
  const column = kind === 'rooms' ? 'room_id' : 'author_id'
  const rows = await select<{ id: string; n: number }>(
    db,
    `/* test */ SELECT ${column} AS id, count(*) AS n FROM messages m WHERE created_at >= CURRENT_DATE() ${
      kind === 'rooms' ? 'AND room_id IN (SELECT id FROM rooms WHERE is_private = 0)' : ''
    } GROUP BY ${column}`,
  )
  return Object.fromEntries(rows.map((r) => [r.id, Number(r.n)]))
}

describe('rankings', () => {
  it('equal a SQL GROUP BY; equal scores share a rank; private rooms are not ranked', async () => {
    const users_ = await api()('/v1/rankings/users?period=day', { token: users.cy.token })
    expect(users_.status).toBe(200)
    expect(users_.headers.get('x-cache')).toBe('MISS')
    const byId = Object.fromEntries(
      users_.body.entries.map((e: { id: string; messages: number }) => [e.id, e.messages]),
    )
    expect(byId).toEqual(await fromSql('users'))
    expect(
      users_.body.entries.map((e: { rank: number; name: string }) => [e.rank, e.name]),
    ).toEqual(
      expect.arrayContaining([
        [1, 'ada'],
        [1, 'bob'],
        [3, 'cy'],
      ]),
    )

    const rooms = await api()('/v1/rankings/rooms?period=week', { token: users.cy.token })
    const roomsById = Object.fromEntries(
      rooms.body.entries.map((e: { id: string; messages: number }) => [e.id, e.messages]),
    )
    expect(roomsById).toEqual(await fromSql('rooms'))
    expect(roomsById[roomIds.hidden]).toBeUndefined()
    expect(rooms.body.entries[0]).toMatchObject({ rank: 1, id: roomIds.big, messages: 8 })

    const again = await api()('/v1/rankings/users?period=day', { token: users.ada.token })
    expect(again.headers.get('x-cache')).toBe('HIT')
    expect((await api()('/v1/rankings/users?period=year', { token: users.ada.token })).status).toBe(
      400,
    )
    expect((await api()('/v1/rankings/users')).status).toBe(401)
  })

  it("around=me gives the caller's rank with neighbours", async () => {
    const res = await api()('/v1/rankings/users?period=all&around=me&limit=1', {
      token: users.cy.token,
    })
    expect(res.status).toBe(200)
    expect(res.body.me).toEqual({ rank: 3, messages: 1 })
    expect(res.body.entries.map((e: { rank: number }) => e.rank)).toEqual([1, 3])
    const stranger = await registerUser(stack, 'quiet')
    const none = await api()('/v1/rankings/users?around=me', { token: stranger.token })
    expect(none.body.me).toEqual({ rank: null, messages: 0 })
  })

  it('a batch shipped again changes nothing', async () => {
    const before = await scores('users')
    const rows = await select<Record<string, unknown>>(
      db,
      'SELECT seq, id, author_id, client_msg_id, body, created_at FROM messages WHERE room_id = ? ORDER BY seq',
      [roomIds.big],
    )
    const batch = {
      messages: rows.map((r) => ({
        seq: Number(r.seq),
        id: r.id,
        author: r.author_id,
        clientMsgId: r.client_msg_id,
        body: r.body,
        createdAt: new Date(r.created_at as string).getTime(),
      })),
      reads: [],
    }
    const origin = { url: stack.urls.origin } as never
    const res = await postAsEdge(origin, stack.secrets.edgeSigningSecret, '/internal/ingest', {
      rooms: [{ roomId: roomIds.big, batch }],
    })
    expect(res.status).toBe(200)
    expect(await scores('users')).toEqual(before)
    expect(await fromSql('users')).toEqual(before)
  })

  it("gives a user's stats: messages, rank, rooms (private ones only to them)", async () => {
    const path = `/v1/users/${users.ada.id}/stats`
    const own = await api()(path, { token: users.ada.token })
    expect(own.body).toEqual({ userId: users.ada.id, messages: 5, rank: 1, rooms: 2 })
    const seen = await api()(path, { token: users.bob.token })
    expect(seen.body).toEqual({ userId: users.ada.id, messages: 5, rank: 1, rooms: 1 })
    expect((await api()(path, { token: users.bob.token })).headers.get('x-cache')).toBe('HIT')
    const missing = await api()('/v1/users/01JD3Q6Z8Y0000000000000000/stats', {
      token: users.bob.token,
    })
    expect(missing.status).toBe(404)
  })

  it('npm run rankings:rebuild restores them from MySQL after Redis lost them', async () => {
    const [users_, rooms] = [await scores('users'), await scores('rooms')]
    const keys = await redis.keys('plaza:v1:rank:*')
    expect(keys.length).toBeGreaterThanOrEqual(6)
    await redis.del(...keys)
    expect(await scores('users')).toEqual({})
    const counts = await rebuild(databaseUrl('plaza_it'), redisServer.url)
    expect(counts['users:all']).toBe(3)
    expect(await scores('users')).toEqual(users_)
    expect(await scores('rooms')).toEqual(rooms)
  })

  it('is in the OpenAPI document', async () => {
    const doc = await (await fetch(`${stack.urls.edge}/openapi.json`)).json()
    for (const path of ['/v1/rankings/rooms', '/v1/rankings/users', '/v1/users/{id}/stats'])
      expect(doc.paths[path]?.get).toBeDefined()
  })
})
