import type { ReadMarker } from '../../shared/internal/ingest'
import type { StoredMessage } from '../../shared/message'

/** How long a (author, clientMsgId) → ack mapping is kept to answer retries. */
const SENT_RETENTION_MS = 24 * 3600 * 1000

/**
 * `landed`: every seq at or below it is in MySQL (the relay says so); `setAside`: how many
 * of the room's messages the origin refused for good (kept by the relay for an operator).
 */
type Counter = 'seq' | 'wakes' | 'shipAttempt' | 'landed' | 'setAside' | 'numbered'

type Row = StoredMessage & Record<string, SqlStorageValue>
/** Columns as the message shapes name them, so a row needs no mapping. */
const MESSAGE_COLUMNS =
  'seq, id, author, client_msg_id AS clientMsgId, body, created_at AS createdAt'

/**
 * The room's SQLite storage: its messages (acked ones stay until they have landed in
 * MySQL, the newest as the replay window), the acks of recent sends (clientMsgId dedupe),
 * read markers waiting to ship, and a little bookkeeping. Every method is synchronous:
 * within one event the writes commit together, before any output leaves the room.
 *
 * Each statement costs a crossing into SQLite, so what the room reads on every send or
 * hand-over is kept in memory as well: the counters, the messages not yet handed to the
 * relay, whether read markers wait. Storage stays the truth; memory is rebuilt from it
 * when the object wakes.
 */
export class RoomStore {
  /** The last seq handed out: the room's gapless numbering continues from here. */
  seq: number
  private readonly counters = new Map<Counter, number>()
  /** Handed to the relay through here (memory only: after a wake the relay gets them again, and dedupes). */
  private shippedThrough: number
  /** Messages appended since the last hand-over, oldest first (when contiguous with `shippedThrough`). */
  private fresh: StoredMessage[] = []
  private readsWaiting = true
  private sentPrunedAt = 0
  /** The latest landing the relay reported (see `recordLanding`); `meta.landed` lags it. */
  private landed: number
  private storedName: string | null = null

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS messages (
      seq INTEGER PRIMARY KEY, id TEXT NOT NULL, author TEXT NOT NULL, client_msg_id TEXT,
      body TEXT NOT NULL, created_at INTEGER NOT NULL)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS sent (
      author TEXT NOT NULL, client_msg_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
      at INTEGER NOT NULL, PRIMARY KEY (author, client_msg_id))`)
    // Acks are pruned in insertion order (see `prune`): an index on their time would be a
    // third B-tree written by every send's commit.
    sql.exec('DROP INDEX IF EXISTS sent_at')
    sql.exec(`CREATE TABLE IF NOT EXISTS reads (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS departures (user TEXT PRIMARY KEY, at INTEGER NOT NULL)`)
    for (const row of sql.exec<{ key: string; value: string }>('SELECT key, value FROM meta')) {
      if (row.key === 'name') this.storedName = row.value
      else this.counters.set(row.key as Counter, Number(row.value))
    }
    // The newest message is never pruned, so the numbering lives in the messages themselves
    // (no counter write per send); `meta.seq` is what rooms stored before.
    const { top } = sql.exec<{ top: number | null }>('SELECT max(seq) AS top FROM messages').one()
    this.seq = Math.max(top ?? 0, this.counter('seq'))
    this.landed = this.counter('landed')
    this.shippedThrough = this.landedThrough()
  }

  /**
   * The room's id as storage remembers it: the runtime names an object only when a request
   * addressed it by name, not when its alarm wakes it (after a restart, say).
   */
  name(): string | null {
    return this.storedName
  }

  /** Remembers the room's id (once: it never changes). */
  rememberName(name: string): void {
    if (this.storedName === name) return
    this.sql.exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', 'name', name)
    this.storedName = name
  }

  /** Whether the room knows where its numbering stands (it has numbered, or asked MySQL). */
  numbered(): boolean {
    return this.seq > 0 || this.counter('numbered') === 1
  }

  /**
   * Storage was empty: MySQL already holds everything through `storedSeq` (0 for a new
   * room), so the numbering continues above it and all of it counts as landed.
   */
  continueFrom(storedSeq: number): void {
    if (storedSeq > this.seq) {
      this.seq = storedSeq
      this.setCounter('seq', storedSeq)
      this.landed = storedSeq
      this.setCounter('landed', storedSeq)
      this.shippedThrough = storedSeq
      this.fresh = []
    }
    this.setCounter('numbered', 1)
  }

  counter(key: Counter): number {
    return this.counters.get(key) ?? 0
  }

  setCounter(key: Counter, value: number): void {
    if (this.counters.get(key) === value) return
    this.counters.set(key, value)
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

  /**
   * Numbers a new message `seq + 1` and stores it, with its ack for retries — unless its
   * author already sent this clientMsgId: then nothing is written and the original ack
   * comes back. The dedupe is the insert itself (no lookup first): two statements a send.
   */
  append(
    message: Omit<StoredMessage, 'seq'>,
  ): { stored: StoredMessage } | { previous: { seq: number; id: string } } {
    const stored: StoredMessage = { ...message, seq: this.seq + 1 }
    const { seq, id, author, clientMsgId, body, createdAt } = stored
    if (clientMsgId) {
      const claimed = this.sql.exec(
        'INSERT INTO sent (author, client_msg_id, seq, id, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        ...[author, clientMsgId, seq, id, createdAt],
      ).rowsWritten
      const previous = claimed ? undefined : this.previousAck(author, clientMsgId)
      if (previous) return { previous }
    }
    this.sql.exec(
      'INSERT INTO messages (seq, id, author, client_msg_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      ...[seq, id, author, clientMsgId, body, createdAt],
    )
    this.seq = seq
    if (this.fresh.length || this.shippedThrough === seq - 1) this.fresh.push(stored)
    return { stored }
  }

  /** Messages not yet handed to the relay. */
  countUnshipped(): number {
    return this.seq - this.shippedThrough
  }

  /** The oldest seq the room still holds (everything below it is in MySQL). */
  lowestHeld(): number {
    const { lo } = this.sql.exec<{ lo: number | null }>('SELECT min(seq) AS lo FROM messages').one()
    return lo ?? this.seq + 1
  }

  /** The highest seq such that it and everything below it has reached MySQL. */
  landedThrough(): number {
    return Math.min(this.landed, this.seq)
  }

  /**
   * What the relay said: landings only move forward. Kept in memory, and written to
   * storage only when the room prunes: a stale, lower value after a wake is safe (the room
   * holds and hands over a little more than it must, and caches a little less).
   */
  recordLanding(landing: { landedThrough: number; setAside: number }): void {
    this.landed = Math.max(this.landed, Math.min(landing.landedThrough, this.seq))
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

  /** The oldest `limit` messages not yet handed to the relay, in seq order. */
  unshipped(limit: number): StoredMessage[] {
    if (this.fresh[0]?.seq === this.shippedThrough + 1) return this.fresh.slice(0, limit)
    if (this.shippedThrough >= this.seq) return []
    return this.sql
      .exec<Row>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?`,
        this.shippedThrough,
        limit,
      )
      .toArray()
  }

  /** The relay has everything through `toSeq`. */
  markShipped(toSeq: number): void {
    this.shippedThrough = Math.max(this.shippedThrough, toSeq)
    // `fresh` holds consecutive seqs: drop the handed ones in one splice.
    const handed = this.shippedThrough - (this.fresh[0]?.seq ?? this.shippedThrough + 1) + 1
    if (handed > 0) this.fresh.splice(0, handed)
  }

  /** Hand everything not landed over again (the relay may have lost track; it dedupes). */
  reshipUnlanded(): void {
    this.shippedThrough = this.landedThrough()
    this.fresh = []
  }

  /**
   * Keeps `window` messages for replay and drops older ones that have landed in MySQL —
   * never one at or above a message that has not, so what the room holds is one
   * contiguous range ending at `seq`. Forgets acks older than a day (checked once a minute).
   */
  prune(window: number, now: number): void {
    this.setCounter('landed', this.landedThrough())
    const keepFrom = Math.min(this.seq - window, this.landedThrough())
    this.sql.exec('DELETE FROM messages WHERE seq <= ?', keepFrom)
    if (now - this.sentPrunedAt < 60_000) return
    this.sentPrunedAt = now
    // Rows go in in time order, so the expired ones are those below the first that is not:
    // found by walking from the oldest, with no index on `at`.
    this.sql.exec(
      `DELETE FROM sent WHERE rowid < coalesce(
         (SELECT rowid FROM sent WHERE at >= ? ORDER BY rowid LIMIT 1),
         (SELECT max(rowid) + 1 FROM sent))`,
      now - SENT_RETENTION_MS,
    )
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
    this.readsWaiting = true
    this.sql.exec(
      'INSERT INTO reads (user, seq) VALUES (?, ?) ON CONFLICT (user) DO UPDATE SET seq = max(seq, excluded.seq)',
      user,
      seq,
    )
  }

  /** Read markers waiting to ship, at most `limit` (one shipment's bound). */
  readMarkers(limit = Number.MAX_SAFE_INTEGER): ReadMarker[] {
    if (!this.readsWaiting) return []
    const markers = this.sql
      .exec<{ user: string; seq: number }>('SELECT user, seq FROM reads LIMIT ?', limit)
      .toArray()
    if (!markers.length) this.readsWaiting = false
    return markers
  }

  /** Drops shipped markers; one that moved on while shipping stays for the next batch. */
  clearReads(shipped: ReadMarker[]): void {
    for (const r of shipped)
      this.sql.exec('DELETE FROM reads WHERE user = ? AND seq = ?', r.user, r.seq)
  }
}
