import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/mysql2'
import { migrate } from 'drizzle-orm/mysql2/migrator'
import mysql from 'mysql2/promise'

export const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url))

export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.slice(1))
  if (!/^[A-Za-z0-9_]+$/.test(name))
    throw new Error(`database name "${name}" in ${redact(url)} must be [A-Za-z0-9_]+`)
  return name
}

/** The URL with its password masked, for messages. */
export function redact(url: string): string {
  const u = new URL(url)
  if (u.password) u.password = '***'
  return u.toString()
}

function serverUrl(url: string): string {
  const u = new URL(url)
  u.pathname = '/'
  return u.toString()
}

/**
 * Creates the database if needed and applies drizzle-kit's migrations. Idempotent, and
 * safe to run from several processes at once (a named lock serializes them).
 */
export async function applyMigrations(url: string): Promise<void> {
  const name = databaseName(url)
  const server = await mysql.createConnection({ uri: serverUrl(url), connectTimeout: 5000 })
  try {
    await server.query('SELECT GET_LOCK(?, 60)', [`plaza_migrate_${name}`])
    await server.query(
      `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    )
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 5000 })
    try {
      await migrate(drizzle({ client: connection }), { migrationsFolder })
    } finally {
      await connection.end()
    }
  } finally {
    await server.query('SELECT RELEASE_LOCK(?)', [`plaza_migrate_${name}`]).catch(() => {})
    await server.end()
  }
}

/**
 * The edge reads the database with credentials that can only SELECT (DESIGN §2.7);
 * locally that is a MariaDB user. On PlanetScale it is a read-only password instead.
 */
export async function ensureReadOnlyUser(
  url: string,
  user: string,
  password: string,
): Promise<void> {
  const name = databaseName(url)
  const connection = await mysql.createConnection({ uri: serverUrl(url), connectTimeout: 5000 })
  try {
    for (const host of ['127.0.0.1', 'localhost', '::1']) {
      await connection.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [
        user,
        host,
        password,
      ])
      await connection.query('ALTER USER ?@? IDENTIFIED BY ?', [user, host, password])
      await connection.query(`GRANT SELECT ON \`${name}\`.* TO ?@?`, [user, host])
    }
  } finally {
    await connection.end()
  }
}

/** Drops and recreates a database: for tests only. */
export async function resetDatabase(url: string): Promise<void> {
  const name = databaseName(url)
  const connection = await mysql.createConnection({ uri: serverUrl(url), connectTimeout: 5000 })
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``)
  } finally {
    await connection.end()
  }
  await applyMigrations(url)
}

/** The number of a room's messages stored in MariaDB (tests and benchmarks check persistence with it). */
export async function messageCount(db: mysql.Connection, roomId: string): Promise<number> {
  const [rows] = await db.query('SELECT count(*) AS n FROM messages WHERE room_id = ?', [roomId])
  return Number((rows as Array<{ n: number }>)[0]?.n ?? 0)
}
