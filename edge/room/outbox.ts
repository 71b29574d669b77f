import { INGEST_MAX_ITEMS, type IngestBody } from '../../shared/internal/ingest'
import { backoffDelay } from '../backoff'
import type { Landing } from '../relay/store'
import { WakeUp } from '../wake-up'
import type { RoomStore } from './store'

export interface OutboxOptions {
  /** Messages per hand-over to the relay. */
  batch: number
  /** How long new messages gather before they are handed over. */
  delayMs: number
  /** How long after a hand-over the room first asks whether its messages have landed. */
  checkMs: number
  /** The alarm that stands in for the timers if the object is evicted meanwhile. */
  safetyMs: number
  maxBackoffMs: number
  /** Landed messages kept for replay. */
  window: number
  /** Prune once this many more messages have landed (a DELETE per hand-over would be waste). */
  pruneEvery: number
  /** The room's bound on acked-but-not-landed messages (ROOM_OUTBOX_LIMIT). */
  limit: number
}

/** How often a room at half its bound or more asks whether its messages have landed. */
const PRESSED_CHECK_MS = 100

/** Landing checks in a row without progress before the room hands everything over again. */
const RESHIP_AFTER_IDLE_CHECKS = 6

/** The room's relay (an RPC stub in the room, a function in tests). */
export interface Courier {
  /** Hands the batch to the relay; `since`: how far the room knows it has landed. */
  take(batch: IngestBody, since: number): Promise<Landing>
  landing(since: number): Promise<Landing>
}

/** The alarm the outbox falls back on: the Durable Object's storage alarm, or a test's. */
export interface AlarmClock {
  getAlarm(): Promise<number | null>
  setAlarm(at: number): Promise<void>
}

/** What the outbox tells its room's operators (logs today). */
export interface OutboxReport {
  /** A hand-over or a landing check failed and will be retried after `retryInMs`. */
  shipFailed(info: { attempt: number; retryInMs: number; error: unknown }): void
}

/**
 * The durable outbox: messages the room has acked but MySQL does not hold yet. A timer —
 * not a storage alarm per message — hands them to the room's relay in seq order, read
 * markers riding along; the relay ships many rooms together and tells the room, in the
 * answer to its next hand-over or when asked, how far they have landed. Nothing leaves
 * the room's storage before it has landed; `size` (acked, not landed) is what the room's
 * bound counts. A failed round is retried with backoff; an alarm stands in for the timers
 * if the object is evicted while anything is still on its way.
 */
export class RoomOutbox {
  private readonly wake: WakeUp
  private running: Promise<void> | undefined
  private again = false
  /** After a failure, nothing before this (ms). */
  private notBefore = 0
  /** Landing checks in a row that found no progress: they space out. */
  private idleChecks = 0
  /** `landedThrough` at the last prune. */
  private prunedAt = 0
  /** Messages acked and not yet in MySQL; the room refuses sends while this is at its limit. */
  size: number

  constructor(
    private readonly store: RoomStore,
    private readonly courier: Courier,
    clock: AlarmClock,
    private readonly options: OutboxOptions,
    private readonly report: OutboxReport,
  ) {
    this.size = store.seq - store.landedThrough()
    this.wake = new WakeUp(
      () => void this.drain(),
      (at) => clock.setAlarm(at),
      options.safetyMs,
    )
  }

  /**
   * A message was stored: count it and make sure it is handed over — at once when a full
   * batch waits, since at thousands of sends a second the gathering delay alone would fill
   * the room's bound before its relay had seen a message.
   */
  added(): void {
    this.size += 1
    this.schedule(this.store.countUnshipped() >= this.options.batch ? 0 : this.options.delayMs)
  }

  /** Something new to hand over: a round after `delay` (the earlier request wins). */
  schedule(delay = this.options.delayMs): void {
    this.wake.at(Math.max(Date.now() + delay, this.notBefore))
  }

  /** The storage alarm fired: do what the timers would have. */
  async onAlarm(): Promise<void> {
    this.wake.alarmFired()
    await this.drain()
  }

  /** Rounds until nothing is left to hand over; one at a time, so hand-overs stay in seq order. */
  drain(): Promise<void> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      do {
        this.again = false
        await this.round()
      } while (this.again)
    })().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async round(): Promise<void> {
    if (Date.now() < this.notBefore) return this.schedule(this.notBefore - Date.now())
    await this.handOver()
  }

  /**
   * One attempt: hands over up to `batch` messages (or only asks, when all are handed
   * over), learns how far they have landed, and plans the next attempt.
   */
  async handOver(): Promise<'idle' | 'done' | 'failed'> {
    const rows = this.store.unshipped(this.options.batch)
    // Markers ride along, never more than one shipment may carry.
    const reads = this.store.readMarkers(INGEST_MAX_ITEMS)
    if (!rows.length && !reads.length && this.size === 0) return 'idle'
    let landing: Landing
    const since = this.store.landedThrough()
    try {
      landing =
        rows.length || reads.length
          ? await this.courier.take({ messages: rows, reads }, since)
          : await this.courier.landing(since)
    } catch (error) {
      this.retryLater(error)
      return 'failed'
    }
    if (landing.resend) {
      // Its relay restarted and lost what it held: everything not landed goes again, now.
      this.store.reshipUnlanded()
      this.again = true
      return 'done'
    }
    if (rows.length) this.store.markShipped(rows.at(-1)!.seq)
    this.store.clearReads(reads)
    if (this.store.counter('shipAttempt')) this.store.setCounter('shipAttempt', 0)
    this.notBefore = 0
    const before = this.size
    this.land(landing)
    if (rows.length === this.options.batch) this.again = true
    else if (this.size > 0) {
      // Landed messages are learnt from later hand-overs, or by asking: sooner while they move.
      this.idleChecks = this.size < before || rows.length ? 0 : this.idleChecks + 1
      // A relay that lost track (its storage reset) would leave them unlanded forever: after
      // a while without progress, hand them over again — the relay and the ingest dedupe.
      if (this.idleChecks === RESHIP_AFTER_IDLE_CHECKS) this.store.reshipUnlanded()
      // Near its bound the room refuses sends until it learns of landings: ask often then.
      const pressed = this.size >= this.options.limit / 2
      const wait = pressed
        ? PRESSED_CHECK_MS
        : Math.min(this.options.maxBackoffMs, this.options.checkMs * 2 ** this.idleChecks)
      this.schedule(wait)
    }
    return 'done'
  }

  private land(landing: Landing): void {
    this.store.recordLanding(landing)
    const landed = this.store.landedThrough()
    if (landed - this.prunedAt >= this.options.pruneEvery) {
      this.prunedAt = landed
      this.store.prune(this.options.window, Date.now())
    }
    this.size = this.store.seq - landed
  }

  private retryLater(error: unknown): void {
    const attempt = this.store.counter('shipAttempt') + 1
    this.store.setCounter('shipAttempt', attempt)
    const retryInMs = backoffDelay(attempt, this.options.maxBackoffMs)
    this.report.shipFailed({ attempt, retryInMs, error })
    this.notBefore = Date.now() + retryInMs
    this.schedule(retryInMs)
  }
}
