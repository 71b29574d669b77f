import type { RoomReport } from '../../shared/room-signals'

type Counted = Exclude<keyof RoomReport, 'sockets'>

/**
 * What a room tells operators (shared/room-signals.ts): counts since its last report and
 * its open sockets, sent to its relay at most once per `everyMs` after something changed —
 * a timer, so a quiet room is never woken for it. A report that fails is counted again in
 * the next one; a room evicted before its timer fires loses at most one interval's counts
 * (its sockets are reported afresh with the next change).
 */
export class RoomSignals {
  private counts: Record<Counted, number> = { accepted: 0, replays: 0, gaps: 0 }
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly sockets: () => number,
    private readonly report: (report: RoomReport) => Promise<void>,
    private readonly everyMs: number,
  ) {}

  count(name: Counted, by = 1): void {
    this.counts[name] += by
    this.changed()
  }

  /** A replay was served (`gaps` of its frames were gaps); -1: nothing was replayed. */
  replayed(gaps: number): void {
    if (gaps < 0) return
    this.counts.replays += 1
    this.counts.gaps += gaps
    this.changed()
  }

  /** Something changed (a socket came or went): report within `everyMs`. */
  changed(): void {
    if (this.timer || this.everyMs === 0) return
    this.timer = setTimeout(() => void this.send(), this.everyMs)
  }

  async send(): Promise<void> {
    this.timer = undefined
    const counts = this.counts
    this.counts = { accepted: 0, replays: 0, gaps: 0 }
    try {
      await this.report({ sockets: this.sockets(), ...counts })
    } catch {
      for (const name of Object.keys(counts) as Counted[]) this.counts[name] += counts[name]
      this.changed()
    }
  }
}
