import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setRole } from '../../dev/admin'
import type { Stack } from '../../dev/stack'
import { apiClient, freshEmail, freshIp } from '../support/api'
import { databaseUrl } from '../support/env'
import { privateRedis } from '../support/redis-server'
import { createRoom, join, registerUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// The sharding map (deploy/vitess/vschema.json) against what the code really sends: the
// integration suites run against a MariaDB with its general log on (integration-setup.ts),
// this file runs after all of them (sequencer.ts) and adds every route of the API once
// more; every statement on a sharded table must name its shard key (or a lookup vindex's
// column), except the listed scatter queries, each with its reason.
let stack: Stack
let redis: Awaited<ReturnType<typeof privateRedis>>
const vschema = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../deploy/vitess/vschema.json', import.meta.url)), 'utf8'),
)

beforeAll(async () => {
  // Its own Redis: the dashboard is cached globally, and another run's entry would answer.
  redis = await privateRedis()
  stack = await startTestStack({ redisUrl: redis.url })
}, 90_000)

afterAll(async () => {
  await stack?.stop()
  await redis?.stop()
})

/** Every route once or more, as users would: accounts, profiles, rooms, messages, reads. */
async function workload(): Promise<void> {
  const api = apiClient(stack.urls.edge, { ip: freshIp() })
  const email = freshEmail()
  const reg = await api('/v1/auth/register', {
    method: 'POST',
    json: { email, password: 'correct horse battery', displayName: 'Sharded' },
  })
  const token = reg.body.tokens.accessToken as string
  const login = await api('/v1/auth/login', {
    method: 'POST',
    json: { email, password: 'correct horse battery' },
  })
  const refreshed = await api('/v1/auth/refresh', {
    method: 'POST',
    json: { refreshToken: login.body.tokens.refreshToken },
  })
  await api('/v1/auth/logout', {
    method: 'POST',
    json: { refreshToken: refreshed.body.refreshToken },
  })
  await api('/v1/me', { token })
  await api(`/v1/profiles/${reg.body.user.id}`, { token })
  await api('/v1/profiles?limit=5', { token })
  await api(`/v1/profiles/${reg.body.user.id}`, {
    method: 'PATCH',
    token,
    json: { bio: 'sharded' },
  })
  const ada = await registerUser(stack, 'Ada')
  const bob = await registerUser(stack, 'Bob')
  const roomId = await createRoom(stack, ada)
  const secret = await createRoom(stack, ada, true)
  await api('/v1/rooms?limit=5', { token: bob.token })
  await api(`/v1/rooms/${roomId}`, { token: bob.token })
  await api(`/v1/rooms/${roomId}/members`, { method: 'POST', token: bob.token })
  await api(`/v1/rooms/${secret}`, { token: bob.token })
  const room = await join(stack, bob, roomId)
  for (let i = 0; i < 3; i++) await room.send(`ws ${i}`)
  await api(`/v1/rooms/${roomId}/messages`, {
    method: 'POST',
    token: ada.token,
    json: { clientMsgId: 'http-1', body: 'over http' },
  })
  await api(`/v1/rooms/${roomId}/read`, { method: 'POST', token: bob.token, json: { seq: 4 } })
  await api(`/v1/rooms/${roomId}/presence`, { token: bob.token })
  const db = await mysql.createConnection(databaseUrl('plaza_it'))
  await until('the messages in MySQL', async () => {
    const [rows] = await db.query('SELECT count(*) AS n FROM messages WHERE room_id = ?', [roomId])
    return Number((rows as Array<{ n: number }>)[0]!.n) === 4
  })
  await db.end()
  await api(`/v1/rooms/${roomId}/messages?limit=2&before=3`, { token: bob.token })
  await api(`/v1/rooms/${roomId}/members/me`, { method: 'DELETE', token: bob.token })
  room.close()
  await setRole(databaseUrl('plaza_it'), email, 'admin')
  const admin = await api('/v1/auth/login', {
    method: 'POST',
    json: { email, password: 'correct horse battery' },
  })
  await api('/v1/dashboard/metrics?period=7d', { token: admin.body.tokens.accessToken })
}

/**
 * The queries allowed to reach every shard, and why. Vitess runs them as scatter-gather
 * (merge-sorted, LIMIT applied after); each is a directory page the edge caches.
 */
const allowedScatters: Array<{ table: string; pattern: RegExp; reason: string }> = [
  {
    table: 'profiles',
    pattern:
      /^select .* from `profiles` order by `profiles`\.`created_at` asc, `profiles`\.`user_id` asc limit/,
    reason:
      'GET /v1/profiles, the public directory: one page per cursor, cached at the edge (CACHE_TTL_PROFILE_LIST_SECONDS)',
  },
  {
    table: 'rooms',
    pattern:
      /^select .* from `rooms` where (\(`rooms`\.`is_private` = false.*\)|`rooms`\.`is_private` = false) order by `rooms`\.`id` asc limit/,
    reason:
      'GET /v1/rooms, the public room directory: one page per cursor, cached at the edge (CACHE_TTL_ROOM_LIST_SECONDS)',
  },
  ...['room_hour_stats', 'room_hour_authors'].map((table) => ({
    table,
    pattern: new RegExp(`from \`${table}\` where \\(\`${table}\`\\.\`hour\` >= `),
    reason:
      "GET /v1/dashboard/metrics, the global dashboard: every room's rollups for the period, by hour; admins only, cached DASHBOARD_METRICS_TTL_SECONDS",
  })),
  {
    table: 'users',
    pattern: /from `users` where \(`users`\.`created_at` >= /,
    reason: 'GET /v1/dashboard/metrics: new accounts in the period (admins only, cached)',
  },
  {
    table: 'room_hour_stats',
    pattern:
      /from `room_hour_stats`( where \(`room_hour_stats`\.`hour` < .*)? order by `room_hour_stats`\.`hour` desc/,
    reason:
      'GET /v1/dashboard/recent-activity: the newest room-hours first; admins only, cached DASHBOARD_ACTIVITY_TTL_SECONDS',
  },
  ...['room_hour_stats', 'room_hour_authors'].map((table) => ({
    table,
    pattern: new RegExp(
      `from \`${table}\`( where \`${table}\`\\.\`hour\` >= .*)? group by \`${table}\``,
    ),
    reason:
      "npm run rankings:rebuild: the period's rollups per room and per author (an operator command after Redis lost the rankings)",
  })),
  {
    table: 'room_hour_stats',
    pattern: /^select distinct room_id from room_hour_stats where hour < /,
    reason:
      'retention: which rooms have messages older than the cutoff, by the hour index (one runner at a time, every RETENTION_INTERVAL_MS)',
  },
  {
    table: 'messages',
    pattern:
      /^select created_at, room_id, seq, id, author_id, body_bytes from messages where created_at >= /,
    reason:
      "GET /v1/dashboard/export: the period's messages streamed as CSV (admins only, 5 a minute, kept EXPORT_TTL_SECONDS)",
  },
  {
    table: 'room_members',
    pattern: /^select `room_id` from `room_members` where `room_members`\.`user_id` = /,
    reason:
      'GET /v1/users/:id/stats: the rooms a user joined, by the user_id index on every shard (cached RANKINGS_TTL_SECONDS); a lookup vindex on user_id would make it one shard',
  },
  {
    table: 'room_event_outbox',
    pattern: /from `room_event_outbox` where `room_event_outbox`\.`published_at` is null order by/,
    reason:
      "the event relay's poll for pending events (each shard's outbox: the event and its write share a shard, so they commit together)",
  },
]

interface TableMap {
  column_vindexes: Array<{ column: string; name: string }>
}

/** What is wrong with one statement under the vschema (null: it names a shard key or is allowed). */
function verdict(sql: string, used: Set<RegExp>): string | null {
  const text = sql.replace(/\s+/g, ' ').trim()
  const lower = text.toLowerCase()
  // A test's own bookkeeping (whole-table counts), marked where it is written.
  if (lower.startsWith('/* test */')) return null
  if (!/^(select|insert|update|delete)\b/.test(lower)) return null
  // An upsert's "on duplicate key update `col` = …" names columns, not tables.
  const statement = lower.split(' on duplicate key update ')[0]!
  const tables = new Set(
    [...statement.matchAll(/(?:from|into|update|join) `?(\w+)`?/g)].map((m) => m[1]!),
  )
  for (const table of tables) {
    const map = (vschema.tables as Record<string, TableMap>)[table]
    if (!map) continue
    const keys = map.column_vindexes.map((v) => v.column)
    const into = new RegExp(`^insert (?:ignore )?into \`?${table}\`? \\(([^)]*)\\)`).exec(lower)
    if (into) {
      const list = into[1] ?? ''
      const columns = list.split(',').map((c) => c.replaceAll('`', '').trim())
      if (!columns.includes(keys[0]!)) return `${table}: an insert without ${keys[0]}: ${text}`
      continue
    }
    const where = lower.split(/ where /)[1] ?? ''
    const named = keys.some((k) => new RegExp(`\`?${k}\`? (=|in \\()`).test(where))
    if (named) continue
    const scatter = allowedScatters.find((a) => a.table === table && a.pattern.test(lower))
    if (!scatter) return `${table}: names none of ${keys.join(', ')}: ${text}`
    used.add(scatter.pattern)
  }
  return null
}

describe('the sharding map', () => {
  it('every statement on a sharded table names its shard key or a lookup column, except the listed scatters', async () => {
    await workload()
    const root = await mysql.createConnection({ uri: databaseUrl('mysql') })
    const [[{ on }]] = (await root.query('SELECT @@general_log AS `on`')) as unknown as [
      [{ on: number }],
    ]
    expect(on, 'the general log is on (test/support/integration-setup.ts)').toBe(1)
    const [rows] = await root.query(
      "SELECT CONVERT(argument USING utf8mb4) AS sql_text FROM mysql.general_log WHERE command_type IN ('Query', 'Execute')",
    )
    await root.end()
    const statements = (rows as Array<{ sql_text: string }>).map((r) => r.sql_text)
    const used = new Set<RegExp>()
    const problems = statements.map((s) => verdict(s, used)).filter((p) => p !== null)
    expect(problems).toEqual([])
    // Every sharded table was exercised, and every listed scatter happened (the list stays honest).
    for (const table of Object.keys(vschema.tables)) {
      expect(
        statements.some((s) => s.includes(`\`${table}\``)),
        table,
      ).toBe(true)
    }
    expect(allowedScatters.filter((a) => !used.has(a.pattern)).map((a) => a.table)).toEqual([])
    console.log(
      `shard keys: ${statements.length} statements checked; scatters allowed: ${allowedScatters
        .map((a) => `${a.table} (${a.reason})`)
        .join('; ')}`,
    )
  }, 120_000)

  it('the checker fails a statement without its shard key', () => {
    expect(
      verdict('select `body` from `messages` where `messages`.`author_id` = ?', new Set()),
    ).toMatch(/messages: names none of room_id/)
    expect(verdict('insert into `rooms` (`name`) values (?)', new Set())).toMatch(/without id/)
    expect(
      verdict('select `id` from `users` where `users`.`email` = ? limit 1', new Set()),
    ).toBeNull()
  })
})
