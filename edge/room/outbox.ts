import { INGEST_MAX_ITEMS, type IngestBody } from '../../shared/internal/ingest'
import type { StoredMessage } from '../../shared/message'
import { ShipmentRefused } from './shipment'
import type { RoomStore } from './store'

export interface OutboxOptions {
  /** Messages per shipment. */
  batch: number
  /** Shipments in flight at once while draining a backlog. */
  concurrency: number
  /** How long new messages gather before the first shipment. */
  delayMs: number
  maxBackoffMs: number
  /** Shipped messages kept for replay. */
  window: number
}

/** The alarm the outbox runs on: the Durable Object's storage alarm, or a test's. */
export interface AlarmClock {
  getAlarm(): Promise<number | null>
  setAlarm(at: number): Promise<void>
}

/** What the outbox tells its room's operators (logs today). */
export interface OutboxReport {
  /** A round failed and will be retried after `retryInMs`. */
  shipFailed(info: { attempt: number; retryInMs: number; error: unknown }): void
  /** The origin refused a shipment for good; its messages are set aside (room stats). */
  setAside(info: { messages: number; status: number; reason: string }): void
}

export type ShipOutcome = 'empty' | 'shipped' | 'failed'

/** Exponential backoff with jitter: half the ceiling plus up to half again, capped. */
export function backoffDelay(attempt: number, maxMs: number, random = Math.random()): number {
  const ceiling = Math.min(maxMs, 250 * 2 ** Math.min(attempt, 20))
  return Math.round(ceiling / 2 + (random * ceiling) / 2)
}

/**
 * The durable outbox: messages the room has acked but MySQL does not hold yet. An alarm
 * ships them with `ship` (the signed ingest call, or a test's function) in batches, several
 * at once while there is a backlog — the ingest is idempotent, so order between shipments
 * does not matter — with read markers riding the first. A failed round is retried with
 * backoff; nothing leaves storage until its shipment has landed.
 */
export class RoomOutbox {
  private alarmSet = false
  /** After a failure, no shipment before this (ms): the shared alarm may fire earlier. */
  private notBefore = 0
  /** Messages not yet shipped; the room refuses sends while this is at its limit. */
  size: number

  constructor(
    private readonly store: RoomStore,
    private readonly ship: (batch: IngestBody) => Promise<void>,
    private readonly clock: AlarmClock,
    private readonly options: OutboxOptions,
    private readonly report: OutboxReport,
  ) {
    this.size = store.countUnshipped()
  }

  /** A message was stored: count it and make sure it ships. */
  added(): void {
    this.size += 1
    this.schedule()
  }

  /** Something new to ship: make sure an alarm will come (the earlier one wins). */
  schedule(delay = this.options.delayMs): void {
    if (this.alarmSet) return
    this.alarmSet = true
    void this.clock.getAlarm().then((at) => {
      const when = Date.now() + delay
      if (at === null || at > when) return this.clock.setAlarm(when)
    })
  }

  /**
   * The alarm: ships while there is a backlog (no alarm round trip between rounds), but
   * hands the object back after `budgetMs` and continues in a fresh alarm.
   */
  async drain(budgetMs = 5_000): Promise<void> {
    this.alarmSet = false
    if (Date.now() < this.notBefore) {
      // Woken early (the alarm is shared): keep the backoff.
      await this.clock.setAlarm(this.notBefore)
      return
    }
    const until = Date.now() + budgetMs
    for (;;) {
      if ((await this.shipOnce()) !== 'shipped') return
      if (Date.now() > until) return this.schedule(0)
    }
  }

  /** One round: up to `concurrency` batches in parallel; each that lands is marked shipped. */
  async shipOnce(): Promise<ShipOutcome> {
    const { batch, concurrency } = this.options
    const rows = this.store.unshipped(batch * concurrency)
    // Markers ride the first shipment, never more than one shipment may carry.
    const reads = this.store.readMarkers(INGEST_MAX_ITEMS)
    if (!rows.length && !reads.length) return 'empty'
    const chunks: StoredMessage[][] = []
    for (let i = 0; i < rows.length; i += batch) chunks.push(rows.slice(i, i + batch))
    if (!chunks.length) chunks.push([])
    const results = await Promise.allSettled(
      chunks.map((messages, i) => this.ship({ messages, reads: i === 0 ? reads : [] })),
    )
    let failed: PromiseRejectedResult | undefined
    for (const [i, result] of results.entries()) {
      const chunk = chunks[i]!
      if (result.status === 'rejected' && !(result.reason instanceof ShipmentRefused)) {
        failed ??= result
        continue
      }
      if (result.status === 'rejected') this.setAside(chunk, result.reason)
      else if (chunk.length) this.store.markShipped(chunk[0]!.seq, chunk.at(-1)!.seq)
      if (i === 0) this.store.clearReads(reads)
    }
    this.store.prune(this.options.window, Date.now())
    this.size = this.store.countUnshipped()
    if (failed) {
      await this.retryLater(failed.reason)
      return 'failed'
    }
    this.store.setCounter('shipAttempt', 0)
    this.notBefore = 0
    return 'shipped'
  }

  /** A shipment the origin refused for good: retrying cannot help, jamming the room would. */
  private setAside(chunk: StoredMessage[], refused: ShipmentRefused): void {
    this.store.setAside(chunk, refused.status, refused.reason, Date.now())
    this.report.setAside({ messages: chunk.length, status: refused.status, reason: refused.reason })
  }

  private async retryLater(error: unknown): Promise<void> {
    const attempt = this.store.counter('shipAttempt') + 1
    this.store.setCounter('shipAttempt', attempt)
    const retryInMs = backoffDelay(attempt, this.options.maxBackoffMs)
    this.report.shipFailed({ attempt, retryInMs, error })
    this.alarmSet = true
    this.notBefore = Date.now() + retryInMs
    await this.clock.setAlarm(this.notBefore)
  }
}
