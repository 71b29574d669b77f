import type { Redis } from '@upstash/redis'
import {
  type RelayGauge,
  type RoomCounter,
  type RoomReport,
  relaySignalsKey,
  roomCounters,
  roomSignalsKey,
} from '../../shared/room-signals'
import { rideAlong } from '../signals'

/** What the relay itself knows when it writes: its backlog, and when its oldest was accepted. */
export interface Backlog {
  held: number
  oldestAt: number | null
}

/**
 * A relay's signals (shared/room-signals.ts): its rooms' reports — each room's last socket
 * count in its SQLite (a quiet room with listeners reports nothing for hours, and its
 * sockets still count), their counts summed in memory with the relay's own — written to
 * Redis every `everyMs` while anything changed or messages wait (their age must stay
 * current exactly while shipping fails). A write that fails is added to the next one.
 */
export class RelaySignals {
  private counts = new Map<RoomCounter, number>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private dirty = false
  /** The relay's name (`relay-N`): an object woken by its alarm has none, so storage keeps it. */
  private readonly relay: string | undefined

  constructor(
    private readonly sql: SqlStorage,
    name: string | undefined,
    private readonly redis: () => Redis,
    private readonly backlog: () => Backlog,
    private readonly everyMs: number,
  ) {
    sql.exec(`CREATE TABLE IF NOT EXISTS room_signals (
      room TEXT PRIMARY KEY, sockets INTEGER NOT NULL, at INTEGER NOT NULL)`)
    sql.exec('CREATE TABLE IF NOT EXISTS relay_name (name TEXT NOT NULL)')
    if (name) {
      sql.exec('DELETE FROM relay_name')
      sql.exec('INSERT INTO relay_name (name) VALUES (?)', name)
    }
    this.relay =
      name ?? sql.exec<{ name: string }>('SELECT name FROM relay_name').toArray()[0]?.name
  }

  /** A room's report: its sockets replace the last count, its counts add up. */
  roomReported(room: string, report: RoomReport, now: number): void {
    if (report.sockets > 0) {
      this.sql.exec(
        'INSERT INTO room_signals (room, sockets, at) VALUES (?, ?, ?) ON CONFLICT (room) DO UPDATE SET sockets = excluded.sockets, at = excluded.at',
        ...[room, report.sockets, now],
      )
    } else this.sql.exec('DELETE FROM room_signals WHERE room = ?', room)
    this.count('accepted', report.accepted)
    this.count('replays', report.replays)
    this.count('gaps', report.gaps)
    this.changed()
  }

  count(name: RoomCounter, by = 1): void {
    if (by === 0) return
    this.counts.set(name, (this.counts.get(name) ?? 0) + by)
    this.changed()
  }

  /** Something changed (a report, a shipment, messages taken): write within `everyMs`. */
  changed(): void {
    this.dirty = true
    if (this.timer || this.everyMs === 0) return
    this.timer = setTimeout(() => void this.write(Date.now()), this.everyMs)
  }

  async write(now: number): Promise<void> {
    this.timer = undefined
    this.dirty = false
    const counts = this.counts
    this.counts = new Map()
    const pipeline = this.redis().pipeline()
    for (const name of roomCounters) {
      const by = counts.get(name)
      if (by) pipeline.hincrby(roomSignalsKey, name, by)
    }
    if (this.relay) pipeline.hset(relaySignalsKey, this.gauges(this.relay, now))
    const edge = rideAlong(pipeline)
    if (pipeline.length() === 0) return
    try {
      await pipeline.exec()
    } catch {
      edge.putBack()
      for (const [name, by] of counts) this.counts.set(name, (this.counts.get(name) ?? 0) + by)
      this.dirty = true
    }
    if (this.dirty || this.backlog().held > 0) this.changed()
  }

  private gauges(relay: string, now: number): Record<string, number> {
    const rooms = this.sql
      .exec<{ total: number | null; top: number | null }>(
        'SELECT sum(sockets) AS total, max(sockets) AS top FROM room_signals',
      )
      .one()
    const { held, oldestAt } = this.backlog()
    const gauges: Record<RelayGauge, number> = {
      sockets: rooms.total ?? 0,
      max_room_sockets: rooms.top ?? 0,
      held,
      oldest_at: held > 0 ? (oldestAt ?? now) : 0,
      at: now,
    }
    return Object.fromEntries(
      Object.entries(gauges).map(([gauge, value]) => [`${relay}:${gauge}`, value]),
    )
  }
}
