import type { ReadMarker } from '../../shared/internal/ingest'
import type { StoredMessage } from '../../shared/message'

/** How long a (author, clientMsgId) → ack mapping is kept to answer retries. */
const SENT_RETENTION_MS = 24 * 3600 * 1000

/**
 * `landed`: every seq at or below it is in MySQL (the relay says so); `setAside`: how many
 * of the room's messages the origin refused for good (kept by the relay for an operator).
 */
type Counter = 'seq' | 'wakes' | 'shipAttempt' | 'landed' | 'setAside'

type Row = StoredMessage & Record<string, SqlStorageValue>
/** Columns as the message shapes name them, so a row needs no mapping. */
const MESSAGE_COLUMNS =
  'seq, id, author, client_msg_id AS clientMsgId, body, created_at AS createdAt'

/**
 * The room's SQLite storage: its messages (the outbox is those not yet shipped to the
 * relay; shipped ones stay until they have landed in MySQL, and the newest as the replay
 * window), the acks of recent sends (clientMsgId dedupe),
 * read markers waiting to ship, and a little bookkeeping. Every method is synchronous:
 * within one event the writes commit together, before any output leaves the room.
 */
export class RoomStore {
  /** The last seq handed out: the room's gapless numbering continues from here. */
  seq: number

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS messages (
      seq INTEGER PRIMARY KEY, id TEXT NOT NULL, author TEXT NOT NULL, client_msg_id TEXT,
      body TEXT NOT NULL, created_at INTEGER NOT NULL, shipped INTEGER NOT NULL DEFAULT 0)`)
    sql.exec(`CREATE INDEX IF NOT EXISTS messages_outbox ON messages (shipped, seq)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS sent (
      author TEXT NOT NULL, client_msg_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
      at INTEGER NOT NULL, PRIMARY KEY (author, client_msg_id))`)
    sql.exec(`CREATE INDEX IF NOT EXISTS sent_at ON sent (at)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS reads (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS departures (user TEXT PRIMARY KEY, at INTEGER NOT NULL)`)
    this.seq = this.counter('seq')
  }

  counter(key: Counter): number {
    const [row] = this.sql
      .exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)
      .toArray()
    return Number(row?.value ?? 0)
  }

  setCounter(key: Counter, value: number): void {
    this.sql.exec(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      String(value),
    )
  }

  /** The ack already given to this author's clientMsgId, if any (a retried send). */
  previousAck(author: string, clientMsgId: string): { seq: number; id: string } | undefined {
    return this.sql
      .exec<{ seq: number; id: string }>(
        'SELECT seq, id FROM sent WHERE author = ? AND client_msg_id = ?',
        author,
        clientMsgId,
      )
      .toArray()[0]
  }

  /** Numbers a new message `seq + 1` and stores it, with its ack for retries. */
  append(message: Omit<StoredMessage, 'seq'>): StoredMessage {
    const stored: StoredMessage = { ...message, seq: this.seq + 1 }
    const { seq, id, author, clientMsgId, body, createdAt } = stored
    this.sql.exec(
      'INSERT INTO messages (seq, id, author, client_msg_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ...[seq, id, author, clientMsgId, body, createdAt],
    )
    if (clientMsgId) {
      this.sql.exec(
        'INSERT INTO sent (author, client_msg_id, seq, id, at) VALUES (?, ?, ?, ?, ?)',
        ...[author, clientMsgId, seq, id, createdAt],
      )
    }
    this.setCounter('seq', seq)
    this.seq = seq
    return stored
  }

  countUnshipped(): number {
    return this.sql
      .exec<{ n: number }>('SELECT count(*) AS n FROM messages WHERE shipped = 0')
      .one().n
  }

  /** The oldest seq the room still holds (everything below it is in MySQL). */
  lowestHeld(): number {
    const { lo } = this.sql.exec<{ lo: number | null }>('SELECT min(seq) AS lo FROM messages').one()
    return lo ?? this.seq + 1
  }

  /** The highest seq such that it and everything below it has reached MySQL. */
  landedThrough(): number {
    return Math.min(this.counter('landed'), this.seq)
  }

  /** What the relay said: landings only move forward. */
  recordLanding(landing: { landedThrough: number; setAside: number }): void {
    const landed = Math.min(landing.landedThrough, this.seq)
    if (landed > this.counter('landed')) this.setCounter('landed', landed)
    if (landing.setAside > this.counter('setAside')) this.setCounter('setAside', landing.setAside)
  }

  /** Held messages strictly between `after` and `before`: the oldest `limit` (forward) or newest. */
  range(q: { after?: number; before?: number; limit: number }): StoredMessage[] {
    const forward = q.after !== undefined
    const rows = this.sql
      .exec<Row>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq > ? AND seq < ?
         ORDER BY seq ${forward ? 'ASC' : 'DESC'} LIMIT ?`,
        q.after ?? 0,
        q.before ?? Number.MAX_SAFE_INTEGER,
        q.limit,
      )
      .toArray()
    return forward ? rows : rows.reverse()
  }

  /** The oldest `limit` messages not yet shipped, in seq order. */
  unshipped(limit: number): StoredMessage[] {
    return this.sql
      .exec<Row>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE shipped = 0 ORDER BY seq LIMIT ?`,
        limit,
      )
      .toArray()
  }

  markShipped(fromSeq: number, toSeq: number): void {
    this.sql.exec('UPDATE messages SET shipped = 1 WHERE seq BETWEEN ? AND ?', fromSeq, toSeq)
  }

  /**
   * Keeps `window` messages for replay and drops older ones that have landed in MySQL —
   * never one at or above a message that has not, so what the room holds is one
   * contiguous range ending at `seq`. Forgets acks older than a day.
   */
  prune(window: number, now: number): void {
    const keepFrom = Math.min(this.seq - window, this.landedThrough())
    this.sql.exec('DELETE FROM messages WHERE shipped = 1 AND seq <= ?', keepFrom)
    this.sql.exec('DELETE FROM sent WHERE at < ?', now - SENT_RETENTION_MS)
  }

  /**
   * A user left (or was removed) at `at`: a connect whose access check is older than this
   * lost the race and is refused. Kept ten minutes, far longer than any check is in flight.
   */
  recordDeparture(user: string, at: number): void {
    this.sql.exec(
      'INSERT INTO departures (user, at) VALUES (?, ?) ON CONFLICT (user) DO UPDATE SET at = excluded.at',
      user,
      at,
    )
    this.sql.exec('DELETE FROM departures WHERE at < ?', at - 600_000)
  }

  departedAt(user: string): number | undefined {
    return this.sql
      .exec<{ at: number }>('SELECT at FROM departures WHERE user = ?', user)
      .toArray()[0]?.at
  }

  /** Moves a user's read marker forward (never back); it ships with the next batch. */
  recordRead(user: string, seq: number): void {
    this.sql.exec(
      'INSERT INTO reads (user, seq) VALUES (?, ?) ON CONFLICT (user) DO UPDATE SET seq = max(seq, excluded.seq)',
      user,
      seq,
    )
  }

  /** Read markers waiting to ship, at most `limit` (one shipment's bound). */
  readMarkers(limit = Number.MAX_SAFE_INTEGER): ReadMarker[] {
    return this.sql
      .exec<{ user: string; seq: number }>('SELECT user, seq FROM reads LIMIT ?', limit)
      .toArray()
  }

  /** Drops shipped markers; one that moved on while shipping stays for the next batch. */
  clearReads(shipped: ReadMarker[]): void {
    for (const r of shipped)
      this.sql.exec('DELETE FROM reads WHERE user = ? AND seq = ?', r.user, r.seq)
  }
}
