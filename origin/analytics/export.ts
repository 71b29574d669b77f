import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import type { Period } from '../../shared/api'
import { windowOf } from '../../shared/dashboard-queries'
import type { Database } from '../db'

/** The export's columns: what a message was, never what it said (bodies stay in their rooms). */
export const exportHeader = 'created_at,room_id,seq,message_id,author_id,body_bytes\n'
/** Lines gathered per chunk written out: few writes, and a chunk of a few hundred KB at most. */
const LINES_PER_CHUNK = 2_000

interface ExportRow {
  created_at: Date
  room_id: string
  seq: number | string
  id: string
  author_id: string
  body_bytes: number
}

/** Every field is an id, a number or a timestamp: nothing needs CSV quoting. */
const lineOf = (r: ExportRow) =>
  `${r.created_at.toISOString()},${r.room_id},${r.seq},${r.id},${r.author_id},${r.body_bytes}\n`

export interface ExportFile {
  /** Served from a file made within the TTL (HIT), or made now while it streams (MISS). */
  cache: 'HIT' | 'MISS'
  filename: string
  body: Readable
}

/**
 * The period's messages as CSV, streamed: rows are read from MySQL as the client takes
 * them (a million rows never sit in memory) and written beside to a file, which later
 * requests for the same window are served from until EXPORT_TTL_SECONDS have passed. A
 * download abandoned half-way leaves no file. Rows come in primary-key order (room, seq):
 * no sort, so MySQL holds nothing either. Files older than the TTL are swept before a new
 * one is made, so the directory holds at most a TTL's worth of exports.
 */
export function csvExports(
  database: Database,
  config: { EXPORT_CACHE_DIR: string; EXPORT_TTL_SECONDS: number },
) {
  const dir = config.EXPORT_CACHE_DIR || join(tmpdir(), 'plaza-exports')

  async function* made(from: number, to: number, path: string) {
    await mkdir(dir, { recursive: true })
    const part = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.part`
    const file = createWriteStream(part)
    const rows = database.stream(
      'SELECT created_at, room_id, seq, id, author_id, body_bytes FROM messages WHERE created_at >= ? AND created_at < ?',
      [new Date(from), new Date(to)],
    )
    let complete = false
    try {
      let lines: string[] = [exportHeader]
      const flush = async function* () {
        const chunk = Buffer.from(lines.join(''))
        lines = []
        if (!file.write(chunk)) await new Promise<void>((r) => file.once('drain', () => r()))
        yield chunk
      }
      for await (const row of rows) {
        lines.push(lineOf(row as ExportRow))
        if (lines.length >= LINES_PER_CHUNK) yield* flush()
      }
      if (lines.length) yield* flush()
      file.end()
      await finished(file)
      await rename(part, path)
      complete = true
    } finally {
      if (!complete) {
        rows.destroy()
        file.destroy()
        await unlink(part).catch(() => {})
      }
    }
  }

  /** Files past the TTL (earlier windows' exports, a crashed run's parts) go before a new one is made. */
  async function sweep(now: number): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[])
    await Promise.all(
      names.map(async (name) => {
        const path = join(dir, name)
        const kept = await stat(path).catch(() => null)
        if (kept && now - kept.mtimeMs >= config.EXPORT_TTL_SECONDS * 1000) {
          await unlink(path).catch(() => {})
        }
      }),
    )
  }

  return async function csvExport(period: Period, now = Date.now()): Promise<ExportFile> {
    const { from, to } = windowOf(period, now)
    const name = `messages-${period}-${new Date(from).toISOString().slice(0, 13)}h`
    const path = join(dir, `${name}.csv`)
    const filename = `plaza-${name}.csv`
    const kept = await stat(path).catch(() => null)
    if (kept && now - kept.mtimeMs < config.EXPORT_TTL_SECONDS * 1000) {
      return { cache: 'HIT', filename, body: createReadStream(path) }
    }
    await sweep(now)
    return {
      cache: 'MISS',
      filename,
      body: Readable.from(made(from, to, path), { objectMode: false }),
    }
  }
}
