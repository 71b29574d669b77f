import { Redis } from 'ioredis'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import { runRetention } from '../../origin/analytics/retention'
import { newId } from '../../shared/ids'
import { rankingKey } from '../../shared/rankings'
import { apiClient, freshIp } from '../support/api'
import { select } from '../support/db'
import { databaseUrl } from '../support/env'
import { postAsEdge } from '../support/origin'
import { privateRedis } from '../support/redis-server'
import { createRoom, registerUser, type TestUser } from '../support/rooms'
import { startTestStack } from '../support/stack'

// Retention by date (seed 002: archive after 90 days, delete after 365; analytics issue):
// backdated messages, shipped through the real ingest so rollups and rankings hold them.
const DAY = 86_400_000
const policy = { archiveDays: 90, deleteDays: 365, batch: 2 }
let stack: Stack
let redisServer: Awaited<ReturnType<typeof privateRedis>>
let redis: Redis
let db: mysql.Connection
let pool: mysql.Pool
let user: TestUser
let roomId: string

beforeAll(async () => {
  redisServer = await privateRedis()
  stack = await startTestStack({ redisUrl: redisServer.url })
  redis = new Redis(redisServer.url)
  db = await mysql.createConnection(databaseUrl('plaza_it'))
  pool = mysql.createPool({ uri: databaseUrl('plaza_it'), connectionLimit: 4, timezone: 'Z' })
  user = await registerUser(stack, 'Old')
  roomId = await createRoom(stack, user)
  // seqs 1–3 are 400 days old, 4–6 100 days, 7–10 from today.
  const ageOf = (seq: number) => (seq <= 3 ? 400 : seq <= 6 ? 100 : 0)
  const now = Date.now()
  const messages = Array.from({ length: 10 }, (_, i) => ({
    seq: i + 1,
    id: newId(),
    author: user.id,
    clientMsgId: `old-${i + 1}`,
    body: `message ${i + 1}`,
    createdAt: now - ageOf(i + 1) * DAY - (10 - i) * 1000,
  }))
  const res = await postAsEdge(
    { url: stack.urls.origin } as never,
    stack.secrets.edgeSigningSecret,
    '/internal/ingest',
    { rooms: [{ roomId, batch: { messages, reads: [] } }] },
  )
  expect(res.status).toBe(200)
}, 60_000)

afterAll(async () => {
  redis?.disconnect()
  await pool?.end()
  await db?.end()
  await stack?.stop()
  await redisServer?.stop()
})

const seqsIn = async (table: string) =>
  (
    await select<{ seq: number }>(db, `SELECT seq FROM ${table} WHERE room_id = ? ORDER BY seq`, [
      roomId,
    ])
  ).map((r) => Number(r.seq))
const rollups = () =>
  select(
    db,
    'SELECT hour, messages, authors FROM room_hour_stats WHERE room_id = ? ORDER BY hour',
    [roomId],
  )

describe('retention', () => {
  it('does nothing while another runner holds the lock', async () => {
    const other = await db.query('SELECT GET_LOCK(?, 0) AS got', ['plaza_retention'])
    expect((other[0] as Array<{ got: number }>)[0]!.got).toBe(1)
    try {
      expect(await runRetention(pool, policy)).toEqual({
        ran: false,
        archived: 0,
        deleted: 0,
        rooms: 0,
      })
      expect(await seqsIn('messages')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    } finally {
      await db.query('SELECT RELEASE_LOCK(?)', ['plaza_retention'])
    }
  })

  it('deletes 400-day-old messages, archives 100-day-old ones, leaves recent ones; rollups and rankings stay', async () => {
    const [rollupsBefore, rankBefore] = [
      await rollups(),
      await redis.zscore(rankingKey('users', 'all', Date.now()), user.id),
    ]
    expect(rankBefore).toBe('10')
    // Two runs at the same time: one takes the lock, and between them each row moves once.
    const reports = await Promise.all([runRetention(pool, policy), runRetention(pool, policy)])
    const ran = reports.filter((r) => r.ran)
    expect(ran.length).toBeGreaterThanOrEqual(1)
    expect(reports.reduce((n, r) => n + r.deleted, 0)).toBe(3)
    expect(reports.reduce((n, r) => n + r.archived, 0)).toBe(3)
    expect(await seqsIn('messages')).toEqual([7, 8, 9, 10])
    expect(await seqsIn('messages_archive')).toEqual([4, 5, 6])
    const [mark] = await select<{ archived_through: number; deleted_through: number }>(
      db,
      'SELECT archived_through, deleted_through FROM room_retention WHERE room_id = ?',
      [roomId],
    )
    expect([Number(mark!.deleted_through), Number(mark!.archived_through)]).toEqual([3, 6])
    expect(await rollups()).toEqual(rollupsBefore)
    expect(await redis.zscore(rankingKey('users', 'all', Date.now()), user.id)).toBe(rankBefore)
    // A run later finds nothing left to do.
    expect(await runRetention(pool, policy)).toEqual({
      ran: true,
      archived: 0,
      deleted: 0,
      rooms: 0,
    })
  })

  it('history answers a retained range with 410 gone and where it now starts', async () => {
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const path = `/v1/rooms/${roomId}/messages`
    const deleted = await api(`${path}?before=3`, { token: user.token })
    expect(deleted.status).toBe(410)
    expect(deleted.body.error.code).toBe('gone')
    expect(deleted.body.error.details).toMatchObject({ reason: 'deleted', availableFrom: 7 })
    const archived = await api(`${path}?before=6`, { token: user.token })
    expect(archived.status).toBe(410)
    expect(archived.body.error.details.reason).toBe('archived')
    expect((await api(`${path}?after=0`, { token: user.token })).status).toBe(410)
    const partly = await api(`${path}?before=9&limit=5`, { token: user.token })
    expect(partly.status).toBe(200)
    expect(partly.body.items.map((m: { seq: number }) => m.seq)).toEqual([7, 8])
    const newest = await api(path, { token: user.token })
    expect(newest.body.items.map((m: { seq: number }) => m.seq)).toEqual([7, 8, 9, 10])
  })
})
