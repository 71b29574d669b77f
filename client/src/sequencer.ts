import { type Message, type MessageFrame, toFrame } from '../../shared/message'

/** A page of history after `after`, oldest first (the SDK's HTTP client). */
export type HistoryPager = (after: number) => Promise<{ items: Message[]; full: boolean }>

/**
 * Delivers a room's messages once each, in seq order, with no gap: duplicates dropped,
 * early frames held until the hole before them is filled, and a gap the room no longer
 * holds paged in from history before anything held back is delivered.
 */
export class Sequencer {
  private readonly held = new Map<number, MessageFrame>()
  private filling: Promise<void> | null = null
  private stopped = false

  constructor(
    /** The last seq delivered; undefined until the first welcome or message. */
    public lastSeq: number | undefined,
    private readonly deliver: (frame: MessageFrame) => void,
    private readonly page: HistoryPager,
    private readonly onError: (err: Error) => void,
  ) {}

  /** The room's seq at welcome: a fresh connection starts from there. */
  start(seq: number): void {
    if (this.lastSeq === undefined) this.lastSeq = seq
  }

  receive(frame: MessageFrame): void {
    if (this.lastSeq === undefined) this.lastSeq = frame.seq - 1
    if (frame.seq <= this.lastSeq) return
    this.held.set(frame.seq, frame)
    if (!this.filling) this.drain()
  }

  /**
   * Pages `from`..`to` from history (queued behind any fill in progress), then drains. When
   * history cannot be read (network, database down) it tries again, later each time: a gap
   * left open would hold back every message after it.
   */
  fill(from: number, to: number, attempt = 0): void {
    const previous = this.filling ?? Promise.resolve()
    this.filling = previous
      .then(() => this.pageIn(from, to))
      .catch((err: Error) => {
        this.onError(err)
        if (this.stopped) return
        const retry = setTimeout(
          () => this.fill(from, to, attempt + 1),
          500 * 2 ** Math.min(attempt, 4),
        )
        ;(retry as { unref?: () => void }).unref?.()
      })
      .finally(() => {
        this.filling = null
        this.drain()
      })
  }

  /** The connection closed: no more retries. */
  stop(): void {
    this.stopped = true
  }

  private drain(): void {
    for (;;) {
      const next = this.held.get((this.lastSeq ?? 0) + 1)
      if (!next) return
      this.held.delete(next.seq)
      this.lastSeq = next.seq
      this.deliver(next)
    }
  }

  private async pageIn(from: number, to: number): Promise<void> {
    let after = Math.max(from - 1, this.lastSeq ?? 0)
    while (after < to) {
      const page = await this.page(after)
      for (const m of page.items) {
        if (m.seq > to) break
        if (m.seq <= (this.lastSeq ?? 0)) continue
        this.lastSeq = m.seq
        this.deliver(toFrame(m))
      }
      const last = page.items.at(-1)?.seq
      if (last === undefined || !page.full) return
      after = last
    }
  }
}
