import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise'

/** Retention's settings (origin config): ages in days; 0 archives nothing. */
export interface RetentionPolicy {
  archiveDays: number
  deleteDays: number
  /** Messages moved or deleted per statement, per room. */
  batch: number
}

export interface RetentionReport {
  /** False when another runner held the lock: this run did nothing. */
  ran: boolean
  archived: number
  deleted: number
  rooms: number
}

const DAY_MS = 86_400_000
const LOCK = 'plaza_retention'

/** Rooms with messages from before `cutoff`, by the rollups' hour index (not a scan of messages). */
async function roomsBefore(conn: PoolConnection, cutoff: Date): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT DISTINCT room_id FROM room_hour_stats WHERE hour < ?',
    [cutoff],
  )
  return rows.map((r) => r.room_id as string)
}

/** How far a room has gone: the seq its moved (or deleted) messages reach. */
async function advance(
  conn: PoolConnection,
  roomId: string,
  column: 'archived_through' | 'deleted_through',
  seq: number,
) {
  await conn.query(
    `INSERT INTO room_retention (room_id, ${column}, updated_at) VALUES (?, ?, ?)
     ON DUPLICATE KEY UPDATE ${column} = GREATEST(${column}, VALUES(${column})), updated_at = VALUES(updated_at)`,
    [roomId, seq, new Date()],
  )
}

/**
 * One room's messages from before `cutoff`, `batch` at a time (oldest seqs first), each
 * batch in its own short transaction: copied to the archive (when `archive`) and deleted
 * from `table`, the room's boundary moved with them. A crash between batches leaves every
 * row in exactly one place; INSERT IGNORE makes a rerun of a half-done batch harmless.
 */
async function sweepRoom(
  conn: PoolConnection,
  roomId: string,
  from: 'messages' | 'messages_archive',
  cutoff: Date,
  policy: RetentionPolicy,
  archive: boolean,
): Promise<number> {
  let moved = 0
  for (;;) {
    const [rows] = await conn.query<RowDataPacket[]>(
      `SELECT seq FROM ${from} WHERE room_id = ? AND created_at < ? ORDER BY seq LIMIT ?`,
      [roomId, cutoff, policy.batch],
    )
    if (!rows.length) return moved
    const through = Number(rows.at(-1)!.seq)
    await conn.beginTransaction()
    try {
      if (archive) {
        await conn.query(
          `INSERT IGNORE INTO messages_archive
             (room_id, seq, id, author_id, client_msg_id, body, body_bytes, created_at, archived_at)
           SELECT room_id, seq, id, author_id, client_msg_id, body, body_bytes, created_at, ?
           FROM messages WHERE room_id = ? AND seq <= ? AND created_at < ?`,
          [new Date(), roomId, through, cutoff],
        )
      }
      await conn.query(`DELETE FROM ${from} WHERE room_id = ? AND seq <= ? AND created_at < ?`, [
        roomId,
        through,
        cutoff,
      ])
      await advance(conn, roomId, archive ? 'archived_through' : 'deleted_through', through)
      await conn.commit()
    } catch (err) {
      await conn.rollback()
      throw err
    }
    moved += rows.length
    if (rows.length < policy.batch) return moved
  }
}

/**
 * Date-based retention (seed 002: archive after 90 days, delete after 365): messages older
 * than `archiveDays` move to `messages_archive`, and anything older than `deleteDays` is
 * deleted from both, per room in bounded batches. One runner at a time across every worker
 * and instance: a MySQL named lock, and a run that cannot take it at once does nothing.
 * The rollups and rankings are counts of what was said, not the messages: they stay.
 */
export async function runRetention(
  pool: Pool,
  policy: RetentionPolicy,
  now = Date.now(),
): Promise<RetentionReport> {
  const conn = await pool.getConnection()
  try {
    const [[lock]] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got', [LOCK])
    if (lock?.got !== 1) return { ran: false, archived: 0, deleted: 0, rooms: 0 }
    try {
      const report = { ran: true, archived: 0, deleted: 0, rooms: 0 }
      const deleteBefore = new Date(now - policy.deleteDays * DAY_MS)
      const touched = new Set<string>()
      // Past the delete age first, straight from `messages`: nothing is archived only to go.
      for (const roomId of await roomsBefore(conn, deleteBefore)) {
        for (const from of ['messages', 'messages_archive'] as const) {
          const n = await sweepRoom(conn, roomId, from, deleteBefore, policy, false)
          if (n) touched.add(roomId)
          report.deleted += n
        }
      }
      if (policy.archiveDays > 0 && policy.archiveDays < policy.deleteDays) {
        const archiveBefore = new Date(now - policy.archiveDays * DAY_MS)
        for (const roomId of await roomsBefore(conn, archiveBefore)) {
          const n = await sweepRoom(conn, roomId, 'messages', archiveBefore, policy, true)
          if (n) touched.add(roomId)
          report.archived += n
        }
      }
      report.rooms = touched.size
      return report
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [LOCK])
    }
  } finally {
    conn.release()
  }
}

/** The policy of an origin config. */
export const retentionPolicy = (config: {
  RETENTION_ARCHIVE_DAYS: number
  RETENTION_DELETE_DAYS: number
  RETENTION_BATCH: number
}): RetentionPolicy => ({
  archiveDays: config.RETENTION_ARCHIVE_DAYS,
  deleteDays: config.RETENTION_DELETE_DAYS,
  batch: config.RETENTION_BATCH,
})

/**
 * Every worker tries every RETENTION_INTERVAL_MS (the first time after a random part of
 * it, so a cluster's workers do not all ask at once); the lock lets one run.
 */
export function scheduleRetention(
  pool: Pool,
  policy: RetentionPolicy,
  intervalMs: number,
  log: { info(o: object, m: string): void; error(o: object, m: string): void },
): () => void {
  if (!intervalMs) return () => {}
  let timer: NodeJS.Timeout
  const run = async () => {
    try {
      const report = await runRetention(pool, policy)
      if (report.archived || report.deleted) log.info(report, 'retention ran')
    } catch (err) {
      log.error({ err: (err as Error).message }, 'retention failed; next try in one interval')
    }
    timer = setTimeout(run, intervalMs)
    timer.unref()
  }
  timer = setTimeout(run, Math.random() * intervalMs)
  timer.unref()
  return () => clearTimeout(timer)
}
