import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../../shared/ids'
import { databaseUrl } from '../../support/env'
import { repoRoot } from '../../support/origin'

// The admin role is an operator's to give (analytics issue: who sees what): granted and
// revoked by a command against the database, never through the API.
const url = databaseUrl('plaza_test')
let db: mysql.Connection
const email = `admin-${newId().toLowerCase()}@example.test`

const run = (script: string, ...args: string[]) =>
  promisify(execFile)('npm', ['run', '--silent', script, '--', ...args], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: url },
  })

const roleOf = async () => {
  const [rows] = await db.query('SELECT role FROM users WHERE email = ?', [email])
  return (rows as Array<{ role: string }>)[0]?.role
}

beforeAll(async () => {
  db = await mysql.createConnection(url)
  await db.query(
    'INSERT INTO users (id, email, password_hash, created_at) VALUES (?, ?, ?, NOW(3))',
    [newId(), email, 'scrypt$x'],
  )
})

afterAll(async () => {
  await db?.end()
})

describe('npm run admin:grant / admin:revoke', () => {
  it('a new account is a user; grant makes it an admin, revoke a user again', async () => {
    expect(await roleOf()).toBe('user')
    expect((await run('admin:grant', email.toUpperCase())).stdout).toMatch(/is now an admin/)
    expect(await roleOf()).toBe('admin')
    expect((await run('admin:revoke', email)).stdout).toMatch(/is now a user/)
    expect(await roleOf()).toBe('user')
  })

  it('names an unknown email and exits 1, changing nothing', async () => {
    const failed = await run('admin:grant', 'nobody@example.test').catch((e) => e)
    expect(failed.code).toBe(1)
    expect(failed.stderr).toMatch(/no account with the email nobody@example.test/)
  })
})
