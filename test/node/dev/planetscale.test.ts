import { Client, DatabaseError } from '@planetscale/database'
import { eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/planetscale-serverless'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningStandIn } from '../../../dev/http'
import { startPlanetScaleStandIn } from '../../../dev/planetscale'
import { getProfile, listProfiles } from '../../../shared/queries'
import { profiles, users } from '../../../shared/schema'
import { databaseUrl, readOnlyUser, uniq } from '../../support/env'

let standIn: RunningStandIn
let client: Client
const url = (user: string, password = '') =>
  `${standIn.url.replace('http://', `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@`)}`
const id26 = (label: string) =>
  uniq(label)
    .replace(/[^a-z0-9]/g, '')
    .padEnd(26, '0')
    .slice(-26)

beforeAll(async () => {
  standIn = await startPlanetScaleStandIn({
    mysqlUrl: databaseUrl('plaza_test'),
    sessionIdleMs: 400,
  })
  client = new Client({ url: url('root') })
})

afterAll(async () => {
  await standIn?.close()
})

describe('@planetscale/database through the stand-in', () => {
  it('maps MySQL types as PlanetScale does, NULL included', async () => {
    const { rows, types } = await client.execute(
      `SELECT 42 AS i, CAST(-7 AS SIGNED) AS neg, CAST(-9007199254740993 AS SIGNED) AS big_neg, NULL AS n,
              CAST('2024-01-02 03:04:05.678' AS DATETIME(3)) AS dt, CAST('2024-01-02' AS DATE) AS d,
              CAST(12.345 AS DECIMAL(10,3)) AS num, CAST(18446744073709551615 AS UNSIGNED) AS big,
              X'00FF10' AS bin, 'héllo wörld 🌍' AS txt, 1.5e0 AS f`,
    )
    expect(rows).toEqual([
      {
        i: 42,
        neg: -7,
        big_neg: '-9007199254740993',
        n: null,
        dt: '2024-01-02 03:04:05.678',
        d: '2024-01-02',
        num: '12.345',
        big: '18446744073709551615',
        bin: new Uint8Array([0, 255, 16]),
        txt: 'héllo wörld 🌍',
        f: 1.5,
      },
    ])
    expect(types).toMatchObject({
      i: 'INT32',
      big_neg: 'INT64',
      dt: 'DATETIME',
      num: 'DECIMAL',
      big: 'UINT64',
    })
  })

  it('reports rowsAffected and a duplicate key as a DatabaseError', async () => {
    const id = id26('dup')
    const insert = () =>
      client.execute(
        'INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, NOW(3))',
        [id, `${id}@example.test`, 'x'],
      )
    expect((await insert()).rowsAffected).toBe(1)
    const err = await insert().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatabaseError)
    expect((err as DatabaseError).message).toMatch(/Duplicate entry/)
    expect((err as DatabaseError).body).toMatchObject({ code: 'ALREADY_EXISTS' })
  })

  it('rejects bad SQL and wrong credentials clearly', async () => {
    await expect(client.execute('SELEC nonsense')).rejects.toThrow(/SQL syntax/)
    const wrong = new Client({ url: url('root', 'wrong-password') })
    const err = await wrong.execute('SELECT 1').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatabaseError)
    expect((err as DatabaseError).status).toBe(401)
  })

  it('commits and rolls back transactions on one pinned connection', async () => {
    const kept = id26('kept')
    const dropped = id26('dropped')
    await client.transaction(async (tx) => {
      await tx.execute(
        'INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, NOW(3))',
        [kept, `${kept}@x.test`, 'x'],
      )
    })
    await expect(
      client.transaction(async (tx) => {
        await tx.execute(
          'INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, NOW(3))',
          [dropped, `${dropped}@x.test`, 'x'],
        )
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    const { rows } = await client.execute('SELECT id FROM users WHERE id IN (?, ?)', [
      kept,
      dropped,
    ])
    expect(rows).toEqual([{ id: kept }])
  })

  it('isolates concurrent sessions: an uncommitted write is invisible outside its transaction', async () => {
    const id = id26('iso')
    let seenOutside: unknown[] = ['not checked']
    await client.transaction(async (tx) => {
      await tx.execute(
        'INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, NOW(3))',
        [id, `${id}@x.test`, 'x'],
      )
      seenOutside = (await client.execute('SELECT id FROM users WHERE id = ?', [id])).rows
    })
    expect(seenOutside).toEqual([])
    expect((await client.execute('SELECT id FROM users WHERE id = ?', [id])).rows).toEqual([{ id }])
  })

  it('rolls back a transaction abandoned mid-way and says so when it is used again', async () => {
    const id = id26('abandon')
    const conn = client.connection()
    await conn.execute('BEGIN')
    await conn.execute(
      'INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, NOW(3))',
      [id, `${id}@x.test`, 'x'],
    )
    await new Promise((r) => setTimeout(r, 1_200))
    await expect(conn.execute('COMMIT')).rejects.toThrow(/rolled back/)
    expect((await client.execute('SELECT id FROM users WHERE id = ?', [id])).rows).toEqual([])
  })

  it('runs concurrent queries on separate connections', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        client.execute('SELECT CONNECTION_ID() AS c, SLEEP(0.2) AS s'),
      ),
    )
    const ids = new Set(results.map((r) => (r.rows[0] as { c: string }).c))
    expect(ids.size).toBeGreaterThanOrEqual(8)
  })

  it('keeps a read-only user read-only', async () => {
    const reader = new Client({ url: url(readOnlyUser.user, readOnlyUser.password) })
    expect((await reader.execute('SELECT COUNT(*) AS n FROM users')).rows).toHaveLength(1)
    const err = await reader
      .execute(
        "INSERT INTO users (id, email, password_hash, created_at) VALUES ('x', 'y', 'z', NOW(3))",
      )
      .catch((e: unknown) => e)
    expect((err as DatabaseError).message).toMatch(/command denied/)
  })
})

describe('drizzle planetscale-serverless through the stand-in', () => {
  it("runs the project's schema and shared read queries", async () => {
    const db = drizzle({ client })
    const id = id26('drz')
    const created = new Date('2025-06-01T12:00:00.123Z')
    await db
      .insert(users)
      .values({ id, email: `${id}@x.test`, passwordHash: 'h', createdAt: created })
    await db.insert(profiles).values({
      userId: id,
      displayName: 'Zoë 🌍',
      bio: 'it\'s "quoted" \\ and ; DROP TABLE users; --',
      createdAt: created,
      updatedAt: created,
    })
    const profile = await getProfile(db, id)
    expect(profile).toMatchObject({
      userId: id,
      displayName: 'Zoë 🌍',
      avatarUrl: null,
      createdAt: created,
    })
    expect(profile?.bio).toBe('it\'s "quoted" \\ and ; DROP TABLE users; --')
    const page = await listProfiles(db, { limit: 100 })
    expect(page.items.some((p) => p.userId === id)).toBe(true)
  })

  it('rolls back a nested transaction to its savepoint and keeps the outer one', async () => {
    const db = drizzle({ client })
    const outer = id26('outer')
    const inner = id26('inner')
    await db.transaction(async (tx) => {
      await tx
        .insert(users)
        .values({ id: outer, email: `${outer}@x.test`, passwordHash: 'h', createdAt: new Date() })
      await tx
        .transaction(async (tx2) => {
          await tx2.insert(users).values({
            id: inner,
            email: `${inner}@x.test`,
            passwordHash: 'h',
            createdAt: new Date(),
          })
          tx2.rollback()
        })
        .catch(() => {})
    })
    expect(await db.select({ id: users.id }).from(users).where(eq(users.id, outer))).toEqual([
      { id: outer },
    ])
    expect(await db.select({ id: users.id }).from(users).where(eq(users.id, inner))).toEqual([])
  })
})

describe('when MariaDB is unreachable', () => {
  it('answers 503 naming the server it could not reach', async () => {
    const dead = await startPlanetScaleStandIn({ mysqlUrl: 'mysql://127.0.0.1:1/plaza' })
    try {
      const err = await new Client({ url: dead.url.replace('http://', 'http://root:@') })
        .execute('SELECT 1')
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DatabaseError)
      expect((err as DatabaseError).status).toBe(503)
      expect((err as DatabaseError).message).toMatch(/MariaDB at 127\.0\.0\.1:1 is unreachable/)
    } finally {
      await dead.close()
    }
  })
})
