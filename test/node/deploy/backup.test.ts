import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resetDatabase } from '../../../dev/database'
import { databaseUrl } from '../../support/env'
import { repoRoot } from '../../support/origin'

// Backups (the road to production): `npm run db:backup` dumps a live database with
// mariadb-dump in one transaction, `npm run db:restore` loads it into an empty one; the
// restored tables hold the same rows, byte for byte (MariaDB's CHECKSUM TABLE).
const source = databaseUrl('plaza_backup_src')
const target = databaseUrl('plaza_backup_dst')
const dir = mkdtempSync(join(tmpdir(), 'plaza-backup-'))
const file = join(dir, 'plaza.sql.gz')

const npm = (script: string, url: string, ...args: string[]) =>
  execFileSync('npm', ['run', '--silent', script, '--', ...args], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: url },
    encoding: 'utf8',
    stdio: 'pipe',
  })

beforeAll(async () => {
  await resetDatabase(source)
  const server = await mysql.createConnection({ uri: databaseUrl('mysql') })
  await server.query('DROP DATABASE IF EXISTS plaza_backup_dst')
  await server.end()
  const db = await mysql.createConnection({ uri: source })
  const now = new Date('2026-12-03T07:00:00.123Z')
  const id = (n: number) => `01JD3Q6Z8Y${String(n).padStart(16, '0')}`
  const users = Array.from({ length: 50 }, (_, i) => [id(i), `u${i}@example.com`, 'scrypt$x', now])
  await db.query('INSERT INTO users (id, email, password_hash, created_at) VALUES ?', [users])
  await db.query('INSERT INTO rooms (id, name, is_private, owner_id, created_at) VALUES ?', [
    [[id(900), 'Ünïcödé room — 🚀', false, id(0), now]],
  ])
  const bodies = ['plain', 'emoji 🎉🔥', 'quotes \' " \\ and \n newlines', 'ä'.repeat(2_000), '']
  const messages = Array.from({ length: 3_000 }, (_, i) => {
    const body = bodies[i % bodies.length]!
    return [id(900), i + 1, id(10_000 + i), id(i % 50), `c${i}`, body, Buffer.byteLength(body), now]
  })
  await db.query(
    'INSERT INTO messages (room_id, seq, id, author_id, client_msg_id, body, body_bytes, created_at) VALUES ?',
    [messages],
  )
  await db.end()
}, 60_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The per-table lines the scripts print: "  table: N rows, checksum C". */
const sums = (out: string) =>
  Object.fromEntries(
    [...out.matchAll(/^ {2}(\w+): (\d+) rows, checksum (\d+)$/gm)].map((m) => [
      m[1],
      `${m[2]}/${m[3]}`,
    ]),
  )

describe('backup and restore', () => {
  it('restores into an empty database with equal row counts and per-table checksums', () => {
    const backedUp = sums(npm('db:backup', source, file))
    expect(statSync(file).size).toBeGreaterThan(1_000)
    expect(backedUp.messages).toMatch(/^3000\//)
    expect(backedUp.users).toMatch(/^50\//)
    const restored = sums(npm('db:restore', target, file))
    expect(Object.keys(restored).length).toBeGreaterThanOrEqual(7)
    expect(restored).toEqual(backedUp)
  })

  it('refuses to restore over a database that holds tables, unless told to replace it', () => {
    expect(() => npm('db:restore', target, file)).toThrow(/not empty/)
    expect(sums(npm('db:restore', target, file, '--replace')).messages).toMatch(/^3000\//)
  })
})
