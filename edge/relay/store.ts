import type { IngestBody } from '../../shared/internal/ingest'
import type { StoredMessage } from '../../shared/message'

type ParcelRow = StoredMessage & { n: number; room: string } & Record<string, SqlStorageValue>

/** What a room learns from its relay: how far its messages are in MySQL, how many were set aside. */
export interface Landing {
  landedThrough: number
  setAside: number
}

/** One shipment: a run of parcels in arrival order, grouped by room. */
export interface Load {
  /** Every parcel with an arrival number above `afterN` and up to `throughN` is in this load. */
  afterN: number
  throughN: number
  rooms: Map<string, IngestBody>
}

/**
 * The relay's SQLite storage: parcels (messages rooms handed over, in arrival order, each
 * room's in seq order), read markers, and per room how far it has handed over and how many
 * of its messages the origin refused for good. Synchronous, like the room's store.
 */
/** Per room, in memory: its oldest parcel here (null: none), what it handed over, what was set aside. */
interface Ledger {
  lo: number | null
  taken: number
  setAside: number
}
const MAX_LEDGERS = 100_000

export class RelayStore {
  /** Parcels held (kept in memory: a count(*) per hand-over would scan the table). */
  private heldCount: number
  /** Answers `landing` without a statement per hand-over; rebuilt from storage after a restart. */
  private readonly ledgers = new Map<string, Ledger>()

  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS parcels (
      n INTEGER PRIMARY KEY, room TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
      author TEXT NOT NULL, client_msg_id TEXT, body TEXT NOT NULL, created_at INTEGER NOT NULL)`)
    sql.exec('CREATE UNIQUE INDEX IF NOT EXISTS parcels_room_seq ON parcels (room, seq)')
    sql.exec(`CREATE TABLE IF NOT EXISTS reads (
      room TEXT NOT NULL, user TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (room, user))`)
    sql.exec(`CREATE TABLE IF NOT EXISTS rooms (
      room TEXT PRIMARY KEY, taken_through INTEGER NOT NULL, set_aside INTEGER NOT NULL DEFAULT 0,
      at INTEGER NOT NULL)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS set_aside (
      room TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, author TEXT NOT NULL,
      client_msg_id TEXT, body TEXT NOT NULL, created_at INTEGER NOT NULL, status INTEGER NOT NULL,
      reason TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (room, seq))`)
    this.heldCount = this.count()
  }

  private count(): number {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM parcels').one().n
  }

  held(): number {
    // Recounted once after a shipment's deletions, not per room.
    if (this.heldCount < 0) this.heldCount = this.count()
    return this.heldCount
  }

  /** When the first parcel still held was accepted by its room (null: none held). */
  oldestAcceptedAt(): number | null {
    const row = this.sql
      .exec<{ at: number }>('SELECT created_at AS at FROM parcels ORDER BY n LIMIT 1')
      .toArray()[0]
    return row?.at ?? null
  }

  /** A room's batch, taken over: a batch handed over twice (a lost answer) is stored once. */
  take(room: string, batch: IngestBody, now: number): void {
    this.held()
    const ledger = this.ledger(room)
    for (const m of batch.messages) {
      const written = this.sql.exec(
        `INSERT OR IGNORE INTO parcels (room, seq, id, author, client_msg_id, body, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ...[room, m.seq, m.id, m.author, m.clientMsgId, m.body, m.createdAt],
      ).rowsWritten
      if (written > 0) {
        this.heldCount += 1
        ledger.lo = Math.min(ledger.lo ?? m.seq, m.seq)
      }
    }
    for (const r of batch.reads) {
      this.sql.exec(
        `INSERT INTO reads (room, user, seq) VALUES (?, ?, ?)
         ON CONFLICT (room, user) DO UPDATE SET seq = max(seq, excluded.seq)`,
        ...[room, r.user, r.seq],
      )
    }
    const last = batch.messages.at(-1)?.seq ?? 0
    ledger.taken = Math.max(ledger.taken, last)
    this.sql.exec(
      `INSERT INTO rooms (room, taken_through, at) VALUES (?, ?, ?)
       ON CONFLICT (room) DO UPDATE SET taken_through = max(taken_through, excluded.taken_through), at = excluded.at`,
      ...[room, last, now],
    )
  }

  /**
   * How far a room's messages are in MySQL: everything below its oldest parcel still here
   * (a room hands over in seq order), or all it handed over when none is left.
   */
  landing(room: string): Landing {
    const { lo, taken, setAside } = this.ledger(room)
    return { landedThrough: lo !== null ? lo - 1 : taken, setAside }
  }

  private ledger(room: string): Ledger {
    let ledger = this.ledgers.get(room)
    if (ledger) return ledger
    const [row] = this.sql
      .exec<{ lo: number | null; taken_through: number; set_aside: number }>(
        `SELECT (SELECT min(seq) FROM parcels WHERE room = ?1) AS lo, taken_through, set_aside
         FROM rooms WHERE room = ?1`,
        room,
      )
      .toArray()
    ledger = { lo: row?.lo ?? null, taken: row?.taken_through ?? 0, setAside: row?.set_aside ?? 0 }
    this.ledgers.set(room, ledger)
    if (this.ledgers.size > MAX_LEDGERS) this.ledgers.delete(this.ledgers.keys().next().value!)
    return ledger
  }

  /** The oldest `limit` parcels after `afterN`, and up to `maxReads` read markers, grouped by room. */
  load(limit: number, maxReads: number, afterN = 0): Load | null {
    const parcels = this.sql
      .exec<ParcelRow>(
        `SELECT n, room, seq, id, author, client_msg_id AS clientMsgId, body, created_at AS createdAt
         FROM parcels WHERE n > ? ORDER BY n LIMIT ?`,
        afterN,
        limit,
      )
      .toArray()
    const reads = this.sql
      .exec<{ room: string; user: string; seq: number }>(
        'SELECT room, user, seq FROM reads LIMIT ?',
        maxReads,
      )
      .toArray()
    if (!parcels.length && !reads.length) return null
    const rooms = new Map<string, IngestBody>()
    const of = (room: string) => {
      const b = rooms.get(room) ?? { messages: [], reads: [] }
      rooms.set(room, b)
      return b
    }
    for (const { n: _n, room, ...m } of parcels) of(room).messages.push(m)
    for (const { room, user, seq } of reads) of(room).reads.push({ user, seq })
    return { afterN, throughN: parcels.at(-1)?.n ?? afterN, rooms }
  }

  /** A room's part of a load reached MySQL: its parcels go, its markers too unless they moved on. */
  landed(load: Load, room: string): void {
    this.sql.exec(
      'DELETE FROM parcels WHERE room = ? AND n > ? AND n <= ?',
      ...[room, load.afterN, load.throughN],
    )
    this.heldCount = -1
    for (const r of load.rooms.get(room)?.reads ?? []) {
      this.sql.exec(
        'DELETE FROM reads WHERE room = ? AND user = ? AND seq = ?',
        room,
        r.user,
        r.seq,
      )
    }
    // Another shipment of the same room may still be in flight: ask what is left.
    const { lo } = this.sql
      .exec<{ lo: number | null }>('SELECT min(seq) AS lo FROM parcels WHERE room = ?', room)
      .one()
    this.ledger(room).lo = lo
  }

  /** The origin refused a room's part for good: kept for an operator, counted for the room. */
  setAside(load: Load, room: string, status: number, reason: string, now: number): number {
    const ledger = this.ledger(room)
    const { moved } = this.sql
      .exec<{ moved: number }>(
        'SELECT count(*) AS moved FROM parcels WHERE room = ? AND n > ? AND n <= ?',
        room,
        load.afterN,
        load.throughN,
      )
      .one()
    this.sql.exec(
      `INSERT OR REPLACE INTO set_aside (room, seq, id, author, client_msg_id, body, created_at, status, reason, at)
       SELECT room, seq, id, author, client_msg_id, body, created_at, ?, ?, ? FROM parcels
       WHERE room = ? AND n > ? AND n <= ?`,
      ...[status, reason, now, room, load.afterN, load.throughN],
    )
    this.sql.exec('UPDATE rooms SET set_aside = set_aside + ? WHERE room = ?', moved, room)
    ledger.setAside += moved
    this.landed(load, room)
    return moved
  }

  setAsideCount(): number {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM set_aside').one().n
  }

  /** Forgets rooms idle for a day with nothing held (their landing is all they handed over). */
  forgetIdle(now: number): void {
    this.ledgers.clear()
    this.sql.exec(
      'DELETE FROM rooms WHERE at < ? AND room NOT IN (SELECT DISTINCT room FROM parcels)',
      now - 24 * 3600 * 1000,
    )
  }
}
