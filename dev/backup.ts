import { spawn } from 'node:child_process'
import { createReadStream, createWriteStream } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import mysql from 'mysql2/promise'
import { originConfigSchema } from '../shared/config'
import { databaseName, redact } from './database'

/** How the MariaDB client tools reach the server of `url`; the password goes by environment, never argv. */
function clientArgs(url: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const u = new URL(url)
  const args = [
    `--host=${u.hostname}`,
    `--port=${u.port || 3306}`,
    `--user=${decodeURIComponent(u.username || 'root')}`,
  ]
  return { args, env: { ...process.env, MYSQL_PWD: decodeURIComponent(u.password) } }
}

async function run(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  io: { feed?: (stdin: Writable) => Promise<void>; consume?: (stdout: Readable) => Promise<void> },
): Promise<void> {
  const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4_000)
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  const flows: Promise<void>[] = []
  if (io.feed) flows.push(io.feed(child.stdin))
  else child.stdin.end()
  if (io.consume) flows.push(io.consume(child.stdout))
  else child.stdout.resume()
  const [code] = await Promise.all([exited, ...flows])
  if (code !== 0) throw new Error(`${program} exited with ${code}: ${stderr.trim()}`)
}

/**
 * A consistent logical backup of `url`'s database (one transaction: InnoDB's snapshot, no
 * locks held against writers), gzipped to `file`: schema, rows (binary as hex), routines.
 */
export async function backupDatabase(url: string, file: string): Promise<void> {
  const { args, env } = clientArgs(url)
  await run(
    'mariadb-dump',
    [
      ...args,
      '--single-transaction',
      '--quick',
      '--routines',
      '--triggers',
      '--hex-blob',
      '--default-character-set=utf8mb4',
      '--no-tablespaces',
      databaseName(url),
    ],
    env,
    { consume: (stdout) => pipeline(stdout, createGzip(), createWriteStream(file)) },
  )
}

/** Restores a backup into `url`'s database, which must be empty (created if missing) unless `replace`. */
export async function restoreDatabase(url: string, file: string, replace = false): Promise<void> {
  const name = databaseName(url)
  const server = await mysql.createConnection({
    uri: url.replace(/\/[^/]*$/, '/'),
    connectTimeout: 5000,
  })
  try {
    if (replace) await server.query(`DROP DATABASE IF EXISTS \`${name}\``)
    await server.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4`)
    const [tables] = await server.query(
      'SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = ?',
      [name],
    )
    if (Number((tables as Array<{ n: number }>)[0]?.n) > 0)
      throw new Error(`${name} is not empty: restore into an empty database, or pass --replace`)
  } finally {
    await server.end()
  }
  const { args, env } = clientArgs(url)
  await run('mariadb', [...args, '--default-character-set=utf8mb4', name], env, {
    feed: (stdin) => pipeline(createReadStream(file), createGunzip(), stdin),
  })
}

/** Per table: its rows and MariaDB's CHECKSUM TABLE — what a restore must reproduce. */
export async function tableChecksums(
  url: string,
): Promise<Record<string, { rows: number; checksum: string }>> {
  const db = await mysql.createConnection({ uri: url, connectTimeout: 5000 })
  try {
    const [tables] = await db.query(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
    const out: Record<string, { rows: number; checksum: string }> = {}
    for (const { name } of tables as Array<{ name: string }>) {
      const [[count]] = (await db.query(`SELECT count(*) AS n FROM \`${name}\``)) as unknown as [
        [{ n: number }],
      ]
      const [[sum]] = (await db.query(`CHECKSUM TABLE \`${name}\``)) as unknown as [
        [{ Checksum: string }],
      ]
      out[name] = { rows: Number(count.n), checksum: String(sum.Checksum) }
    }
    return out
  } finally {
    await db.end()
  }
}

// `npm run db:backup -- FILE` / `npm run db:restore -- FILE [--replace]`, on DATABASE_URL.
if (process.argv[1]?.endsWith('backup.ts')) {
  const [command, file, flag] = process.argv.slice(2)
  const url = originConfigSchema.shape.DATABASE_URL.parse(process.env.DATABASE_URL || undefined)
  const started = Date.now()
  try {
    if (!file || !['backup', 'restore'].includes(command ?? '')) {
      throw new Error(
        'usage: npm run db:backup -- FILE.sql.gz | npm run db:restore -- FILE.sql.gz [--replace]',
      )
    }
    if (command === 'backup') await backupDatabase(url, file)
    else await restoreDatabase(url, file, flag === '--replace')
    const sums = await tableChecksums(url)
    console.log(
      `${command} of ${redact(url)} ${command === 'backup' ? 'to' : 'from'} ${file} in ${Date.now() - started} ms`,
    )
    for (const [table, { rows, checksum }] of Object.entries(sums))
      console.log(`  ${table}: ${rows} rows, checksum ${checksum}`)
  } catch (err) {
    console.error(`${command ?? 'db'} failed on ${redact(url)}: ${(err as Error).message}`)
    process.exit(1)
  }
}
