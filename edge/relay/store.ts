import type { IngestBody } from '../../shared/internal/ingest'
import type { StoredMessage } from '../../shared/message'

/**
 * What a room learns from its relay: how far its messages are in MySQL, how many were set
 * aside — or, with `resend`, that the relay does not hold what the room handed it before
 * (it restarted): the room hands everything not landed over again.
 */
export interface Landing {
  landedThrough: number
  setAside: number
  resend?: true
}

/** One shipment: a run of parcels in arrival order, grouped by room. */
export interface Load {
  /** Every parcel with an arrival number above `afterN` and up to `throughN` is in this load. */
  afterN: number
  throughN: number
  rooms: Map<string, IngestBody>
}

/** A message handed over, numbered `n` in arrival order. */
interface Parcel {
  n: number
  room: string
  message: StoredMessage
  bytes: number
}

/**
 * Per room: its parcels here by seq; `taken`, the seq through which the relay has had
 * every message of the room since it met the room (what landed below its oldest parcel);
 * how many of its messages were set aside.
 */
interface Ledger {
  parcels: Map<number, Parcel>
  taken: number
  setAside: number
}
const MAX_LEDGERS = 100_000
/** What a parcel costs besides its body (ids, numbers, map entries), for the byte bound. */
const PARCEL_OVERHEAD_BYTES = 200

/**
 * The relay's holdings. Parcels live in memory only: the room keeps every message in its
 * own storage until the relay says it has landed, so a copy in the relay's SQLite would
 * cost a second storage commit per hand-over for nothing — after a restart the relay
 * answers `resend` and the rooms hand over again (the ingest dedupes). What exists only
 * here stays in SQLite: read markers (the room forgets them once handed over) and the
 * messages the origin refused for good (kept for an operator), with their count per room.
 */
export class RelayStore {
  private readonly parcels = new Map<number, Parcel>()
  private readonly ledgers = new Map<string, Ledger>()
  private nextN = 1
  private heldBytes = 0

  constructor(private readonly sql: SqlStorage) {
    // Parcels were stored before they were held in memory; their rooms still hold them.
    sql.exec('DROP TABLE IF EXISTS parcels')
    sql.exec(`CREATE TABLE IF NOT EXISTS reads (
      room TEXT NOT NULL, user TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (room, user))`)
    // Per room, what was set aside; `taken_through` is no longer read (relays before parcels
    // moved to memory kept it) and stays only because existing storage has the column.
    sql.exec(`CREATE TABLE IF NOT EXISTS rooms (
      room TEXT PRIMARY KEY, taken_through INTEGER NOT NULL, set_aside INTEGER NOT NULL DEFAULT 0,
      at INTEGER NOT NULL)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS set_aside (
      room TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, author TEXT NOT NULL,
      client_msg_id TEXT, body TEXT NOT NULL, created_at INTEGER NOT NULL, status INTEGER NOT NULL,
      reason TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (room, seq))`)
  }

  held(): number {
    return this.parcels.size
  }

  /** Bytes held (bodies plus a fixed overhead per parcel): the relay's memory bound counts these. */
  bytes(): number {
    return this.heldBytes
  }

  /** When the first parcel still held was accepted by its room (null: none held). */
  oldestAcceptedAt(): number | null {
    for (const parcel of this.parcels.values()) return parcel.message.createdAt
    return null
  }

  /**
   * A room's batch, taken over; `since` is how far the room knows it has landed. A batch
   * that starts past what the relay has had of the room (it restarted and lost them) is
   * not taken: the answer says `resend`. One handed over twice (a lost answer) is held once.
   */
  take(room: string, batch: IngestBody, since: number): Landing {
    const ledger = this.ledger(room, since)
    const first = batch.messages[0]?.seq
    if (first !== undefined && first > ledger.taken + 1)
      return { ...this.landing(room), resend: true }
    for (const message of batch.messages) {
      if (ledger.parcels.has(message.seq)) continue
      const parcel = { n: this.nextN++, room, message, bytes: parcelBytes(message) }
      this.parcels.set(parcel.n, parcel)
      ledger.parcels.set(message.seq, parcel)
      this.heldBytes += parcel.bytes
    }
    ledger.taken = Math.max(ledger.taken, batch.messages.at(-1)?.seq ?? 0)
    for (const r of batch.reads) {
      this.sql.exec(
        `INSERT INTO reads (room, user, seq) VALUES (?, ?, ?)
         ON CONFLICT (room, user) DO UPDATE SET seq = max(seq, excluded.seq)`,
        ...[room, r.user, r.seq],
      )
    }
    return this.landing(room)
  }

  /**
   * How far a room's messages are in MySQL: everything below its oldest parcel here, or
   * all it handed over when none is left. A room the relay has not met since it started,
   * asking while it has messages on their way, is told to resend them.
   */
  ask(room: string, since: number): Landing {
    const met = this.ledgers.has(room)
    this.ledger(room, since)
    const landing = this.landing(room)
    return met ? landing : { ...landing, resend: true }
  }

  /** How far a room's messages are in MySQL (see `ask`). */
  landing(room: string): Landing {
    const ledger = this.ledgers.get(room)
    if (!ledger) return { landedThrough: 0, setAside: this.storedSetAside(room) }
    let lo = Number.POSITIVE_INFINITY
    for (const seq of ledger.parcels.keys()) lo = Math.min(lo, seq)
    const landedThrough = Number.isFinite(lo) ? lo - 1 : ledger.taken
    return { landedThrough, setAside: ledger.setAside }
  }

  private ledger(room: string, since: number): Ledger {
    let ledger = this.ledgers.get(room)
    if (!ledger) {
      ledger = { parcels: new Map(), taken: since, setAside: this.storedSetAside(room) }
      this.ledgers.set(room, ledger)
      this.forgetEmptyLedgers()
    }
    // What the room knows has landed, the relay need not have had.
    ledger.taken = Math.max(ledger.taken, since)
    return ledger
  }

  /** Past MAX_LEDGERS, the oldest rooms with nothing held are forgotten (they are asked to resend). */
  private forgetEmptyLedgers(): void {
    if (this.ledgers.size <= MAX_LEDGERS) return
    for (const [room, ledger] of this.ledgers) {
      if (this.ledgers.size <= MAX_LEDGERS * 0.9) return
      if (!ledger.parcels.size) this.ledgers.delete(room)
    }
  }

  private storedSetAside(room: string): number {
    return (
      this.sql
        .exec<{ n: number }>('SELECT set_aside AS n FROM rooms WHERE room = ?', room)
        .toArray()[0]?.n ?? 0
    )
  }

  /** The oldest `limit` parcels after `afterN`, and up to `maxReads` read markers, grouped by room. */
  load(limit: number, maxReads: number, afterN = 0): Load | null {
    const rooms = new Map<string, IngestBody>()
    const of = (room: string) => {
      const b = rooms.get(room) ?? { messages: [], reads: [] }
      rooms.set(room, b)
      return b
    }
    let throughN = afterN
    let count = 0
    for (const parcel of this.parcels.values()) {
      if (count === limit) break
      if (parcel.n <= afterN) continue
      of(parcel.room).messages.push(parcel.message)
      throughN = parcel.n
      count += 1
    }
    const reads = this.sql
      .exec<{ room: string; user: string; seq: number }>(
        'SELECT room, user, seq FROM reads LIMIT ?',
        maxReads,
      )
      .toArray()
    if (!count && !reads.length) return null
    for (const { room, user, seq } of reads) of(room).reads.push({ user, seq })
    return { afterN, throughN, rooms }
  }

  /** A room's part of a load reached MySQL: its parcels go, its markers too unless they moved on. */
  landed(load: Load, room: string): void {
    for (const parcel of this.inLoad(load, room)) this.drop(parcel)
    for (const r of load.rooms.get(room)?.reads ?? []) {
      this.sql.exec(
        'DELETE FROM reads WHERE room = ? AND user = ? AND seq = ?',
        room,
        r.user,
        r.seq,
      )
    }
  }

  /** The room's parcels of a load that are still here. */
  private inLoad(load: Load, room: string): Parcel[] {
    const ledger = this.ledgers.get(room)
    if (!ledger) return []
    return [...ledger.parcels.values()].filter((p) => p.n > load.afterN && p.n <= load.throughN)
  }

  private drop(parcel: Parcel): void {
    this.parcels.delete(parcel.n)
    this.ledgers.get(parcel.room)?.parcels.delete(parcel.message.seq)
    this.heldBytes -= parcel.bytes
  }

  /** The origin refused a room's part for good: kept for an operator, counted for the room. */
  setAside(load: Load, room: string, status: number, reason: string, now: number): number {
    const moved = this.inLoad(load, room)
    for (const { message: m } of moved) {
      this.sql.exec(
        `INSERT OR REPLACE INTO set_aside (room, seq, id, author, client_msg_id, body, created_at, status, reason, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...[room, m.seq, m.id, m.author, m.clientMsgId, m.body, m.createdAt],
        ...[status, reason, now],
      )
    }
    this.sql.exec(
      `INSERT INTO rooms (room, taken_through, set_aside, at) VALUES (?, 0, ?, ?)
       ON CONFLICT (room) DO UPDATE SET set_aside = set_aside + excluded.set_aside, at = excluded.at`,
      ...[room, moved.length, now],
    )
    const ledger = this.ledgers.get(room)
    if (ledger) ledger.setAside += moved.length
    this.landed(load, room)
    return moved.length
  }

  setAsideCount(): number {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM set_aside').one().n
  }
}

function parcelBytes(m: StoredMessage): number {
  return m.body.length * 2 + PARCEL_OVERHEAD_BYTES
}
