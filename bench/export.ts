import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { resetDatabase } from '../dev/database'
import { signRequest } from '../shared/internal/signature'
import { startOrigin } from '../test/support/origin'

/**
 * `npm run bench -- export`: the admin CSV export of a million messages, streamed by one
 * origin worker from MariaDB to the client — rows, time, bytes, and the worker's resident
 * memory sampled every 50 ms (bounded: it holds a chunk of rows at a time, not the file).
 */
export interface ExportRow {
  run: string
  lines: number
  seconds: number
  megabytes: number
  rssBeforeMb: number
  rssPeakMb: number
  rssAfterMb: number
}

const ROWS = Number(process.env.BENCH_EXPORT_ROWS) || 1_000_000
const databaseUrl =
  process.env.BENCH_EXPORT_DATABASE_URL || 'mysql://root@127.0.0.1:3306/plaza_bench_export'
const SECRET = 'bench-export-secret-0123456789abcdef0123'
const ADMIN = '01BENCHADM1N0000000000000A'

const rssMb = (pid: number) => {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
  return Math.round(Number(kb) / 102.4) / 10
}

/** A million messages in 1,000 rooms over the last hour, by MariaDB's sequence engine. */
async function seed(): Promise<void> {
  await resetDatabase(databaseUrl)
  const db = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' })
  try {
    await db.query(
      "INSERT INTO users (id, email, password_hash, role, created_at) VALUES (?, 'bench-admin@example.test', 'x', 'admin', now(3))",
      [ADMIN],
    )
    const step = 100_000
    for (let from = 1; from <= ROWS; from += step) {
      const to = Math.min(ROWS, from + step - 1)
      await db.query(
        `INSERT INTO messages (room_id, seq, id, author_id, client_msg_id, body, body_bytes, created_at)
         SELECT concat('01BENCHR00M', lpad(seq % 1000, 15, '0')), seq, lpad(seq, 26, '0'), ?, NULL,
                'a hundred-byte body, more or less, as chat messages tend to be in these benchmarks here', 86,
                now(3) - INTERVAL (seq % 3000) SECOND
         FROM seq_${from}_to_${to}`,
        [ADMIN],
      )
      process.stdout.write(
        `\r  seeding ${to.toLocaleString('en')} of ${ROWS.toLocaleString('en')} messages…`,
      )
    }
    process.stdout.write('\n')
  } finally {
    await db.end()
  }
}

export async function benchExport(): Promise<ExportRow[]> {
  await seed()
  const exportDir = await mkdtemp(join(tmpdir(), 'plaza-bench-exports-'))
  const origin = await startOrigin({
    EDGE_SIGNING_SECRET: SECRET,
    DATABASE_URL: databaseUrl,
    ORIGIN_WORKERS: '1',
    EXPORT_CACHE_DIR: exportDir,
    LOG_LEVEL: 'warn',
  })
  const worker = Number(
    execFileSync('pgrep', ['-P', String(origin.child.pid)])
      .toString()
      .trim()
      .split('\n')[0],
  )
  const rows: ExportRow[] = []
  try {
    for (const run of ['first', 'again']) {
      const path = '/v1/dashboard/export?format=csv&period=1h'
      const headers = await signRequest(SECRET, {
        method: 'GET',
        pathWithQuery: path,
        userId: ADMIN,
        body: new Uint8Array(),
      })
      const before = rssMb(worker)
      let peak = before
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssMb(worker))
      }, 50)
      const started = performance.now()
      const res = await fetch(`${origin.url}${path}`, { headers })
      if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`)
      let lines = 0
      let bytes = 0
      const reader = res.body!.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        bytes += value.byteLength
        for (const b of value) if (b === 10) lines++
        if (lines % 100_000 < 50)
          process.stdout.write(`\r  ${run}: ${lines.toLocaleString('en')} lines…`)
      }
      clearInterval(sampler)
      process.stdout.write('\n')
      const seconds = (performance.now() - started) / 1000
      if (lines !== ROWS + 1)
        throw new Error(`export had ${lines} lines, expected header + ${ROWS}`)
      rows.push({
        run: `${run}, ${res.headers.get('x-cache')}`,
        lines,
        seconds: Math.round(seconds * 100) / 100,
        megabytes: Math.round(bytes / 1024 / 102.4) / 10,
        rssBeforeMb: before,
        rssPeakMb: peak,
        rssAfterMb: rssMb(worker),
      })
    }
  } finally {
    await origin.stop()
    await rm(exportDir, { recursive: true, force: true })
  }
  return rows
}
