import { DurableObject } from 'cloudflare:workers'
import type { EdgeConfig } from '../../shared/config'
import { INGEST_MAX_ITEMS, type IngestBody } from '../../shared/internal/ingest'
import type { RoomReport } from '../../shared/room-signals'
import { backoffDelay } from '../backoff'
import { clients } from '../clients'
import { configOf } from '../config'
import { errorFields, log } from '../log'
import { WakeUp } from '../wake-up'
import { ShipmentRefused, shipToOrigin } from './shipment'
import { RelaySignals } from './signals'
import { type Landing, type Load, RelayStore } from './store'

export type { Landing } from './store'

/** The relay is full: the room keeps its messages and hands them over later. */
export class RelayFull extends Error {
  constructor(held: number) {
    super(`the relay holds ${held} messages, its limit; try again later`)
    this.name = 'RelayFull'
  }
}

/**
 * A relay gathers the acked messages of many rooms and ships them to MySQL together: the
 * rooms hand their outboxes over (`take`, an RPC), and every RELAY_GATHER_MS — at once
 * when RELAY_BATCH are waiting — one signed request carries every room's batch, one
 * transaction stores them. The relay holds them in memory: each room keeps its messages
 * in its own storage until it asks (`landing`) and hears they are in MySQL, and a relay
 * that restarted tells rooms to hand over again. Rooms pick their relay by id (`relayFor`).
 */
export class Relay extends DurableObject<Record<string, unknown>> {
  private readonly config: EdgeConfig
  private readonly store: RelayStore
  private readonly ship: (
    rooms: Map<string, IngestBody>,
  ) => ReturnType<ReturnType<typeof shipToOrigin>>
  private readonly wake: WakeUp
  private readonly signals: RelaySignals
  private running: Promise<void> | undefined
  private attempt = 0
  /** Shipments sent since this instance started (stats). */
  private shipments = 0
  private notBefore = 0

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env)
    this.config = configOf(env)
    this.store = new RelayStore(ctx.storage.sql)
    this.ship = shipToOrigin(this.config)
    this.wake = new WakeUp(
      () => void this.dispatch(),
      (at) => ctx.storage.setAlarm(at),
      this.config.ROOM_SHIP_SAFETY_MS,
    )
    this.signals = new RelaySignals(
      ctx.storage.sql,
      ctx.id.name,
      () => clients(this.config).redis,
      () => ({ held: this.store.held(), oldestAt: this.store.oldestAcceptedAt() }),
      this.config.SIGNALS_INTERVAL_MS,
    )
  }

  /**
   * Takes a room's batch (held in memory: the room keeps it until it has landed) and says
   * how far the room has landed; `since` is how far the room knows it has.
   */
  async take(roomId: string, batch: IngestBody, since = 0): Promise<Landing> {
    const held = this.store.held()
    if (
      held + batch.messages.length > this.config.RELAY_MAX_HELD ||
      this.store.bytes() > this.config.RELAY_MAX_HELD_BYTES
    )
      throw new RelayFull(held)
    const landing = this.store.take(roomId, batch, since)
    if (landing.resend) return landing
    this.signals.changed()
    const full = this.store.held() >= this.config.RELAY_BATCH
    this.schedule(full ? 0 : this.config.RELAY_GATHER_MS)
    return landing
  }

  /** How far a room's messages are in MySQL (`resend` if the relay lost them). */
  async landing(roomId: string, since = 0): Promise<Landing> {
    return this.store.ask(roomId, since)
  }

  /** A room's signals (its sockets, its counts since its last report), written on with the relay's. */
  async report(roomId: string, report: RoomReport): Promise<void> {
    this.signals.roomReported(roomId, report, Date.now())
  }

  async stats() {
    return {
      held: this.store.held(),
      setAside: this.store.setAsideCount(),
      attempt: this.attempt,
      shipments: this.shipments,
    }
  }

  /** Ships after `delay`, the earlier request winning (a timer, an alarm as safety net). */
  private schedule(delay: number): void {
    this.wake.at(Math.max(Date.now() + delay, this.notBefore))
  }

  override async alarm(): Promise<void> {
    this.wake.alarmFired()
    await this.dispatch()
    if (this.store.held()) this.schedule(this.config.RELAY_GATHER_MS)
  }

  /** Ships while a full shipment waits (5 s at most in one go); one dispatch at a time. */
  private dispatch(): Promise<void> {
    this.running ??= this.shipWhileFull().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async shipWhileFull(): Promise<void> {
    const until = Date.now() + 5_000
    for (;;) {
      if (Date.now() < this.notBefore) return this.schedule(this.notBefore - Date.now())
      const loads = this.nextLoads()
      if (!loads.length) return
      const landed = await Promise.all(loads.map((load) => this.shipLoad(load)))
      if (landed.includes(false)) return
      if (!this.store.load(1, 1)) return
      // A backlog ships on; a few stragglers wait for the next window to gather company.
      if (this.store.held() < this.config.RELAY_BATCH)
        return this.schedule(this.config.RELAY_GATHER_MS)
      if (Date.now() > until) return this.schedule(0)
    }
  }

  /**
   * Up to RELAY_SHIP_CONCURRENCY shipments of consecutive parcels (a second only behind a
   * full first); read markers ride the first. The ingest is idempotent and a room's
   * landing is read from what is left, so their order does not matter.
   */
  private nextLoads(): Load[] {
    const loads: Load[] = []
    let afterN = 0
    while (loads.length < this.config.RELAY_SHIP_CONCURRENCY) {
      const load = this.store.load(
        this.config.RELAY_BATCH,
        loads.length ? 0 : INGEST_MAX_ITEMS,
        afterN,
      )
      if (!load) break
      loads.push(load)
      afterN = load.throughN
      const messages = [...load.rooms.values()].reduce((n, b) => n + b.messages.length, 0)
      if (messages < this.config.RELAY_BATCH) break
    }
    return loads
  }

  /** One shipment: true when it landed (or was refused for good), false to retry later. */
  private async shipLoad(load: Load): Promise<boolean> {
    let answer: Awaited<ReturnType<typeof this.ship>>
    try {
      this.shipments += 1
      this.signals.count('shipments')
      answer = await this.ship(load.rooms)
    } catch (err) {
      if (err instanceof ShipmentRefused) {
        for (const room of load.rooms.keys()) this.setAside(load, room, err.status, err.reason)
        return true
      }
      this.retryLater(err)
      return false
    }
    const answered = new Set(answer.rooms.map((r) => r.roomId))
    for (const outcome of answer.rooms) {
      if (!load.rooms.has(outcome.roomId)) continue
      if (outcome.stored) this.store.landed(load, outcome.roomId)
      else this.setAside(load, outcome.roomId, outcome.status, outcome.reason)
    }
    if ([...load.rooms.keys()].some((room) => !answered.has(room))) {
      this.retryLater(new Error('the origin did not answer for every room of a shipment'))
      return false
    }
    this.attempt = 0
    this.notBefore = 0
    return true
  }

  private setAside(load: Load, room: string, status: number, reason: string): void {
    const messages = this.store.setAside(load, room, status, reason, Date.now())
    log('error', 'relay: the origin refused a room batch; its messages are set aside', {
      room,
      messages,
      status,
      reason,
    })
  }

  private retryLater(error: unknown): void {
    this.attempt += 1
    this.signals.count('shipments_failed')
    const retryInMs = backoffDelay(this.attempt, this.config.ROOM_SHIP_MAX_BACKOFF_MS)
    log('warn', 'relay: shipping failed; will retry', {
      attempt: this.attempt,
      retryInMs,
      held: this.store.held(),
      ...errorFields(error),
    })
    this.notBefore = Date.now() + retryInMs
    this.schedule(retryInMs)
  }
}
