export interface GroupCommitOptions {
  /** Runs after each batch, once the work's callers have resumed (their acks sent). */
  afterBatch?: () => void
  /** A batch this large runs at once. */
  maxBatch?: number
  /** A batch that has waited this long runs at once. */
  maxWaitMs?: number
}

/**
 * Sends that arrive together share one storage commit. The runtime commits a Durable
 * Object's writes once per event, and on a local disk that commit is an fsync that blocks
 * the object's only thread: one room taking each send in its own event topped out at
 * ~2,300 acked sends/s with its CPU half idle (docs/BENCHMARKS.md). Queued work runs
 * together in a later event, after the frames already waiting have been read; its writes
 * then commit once, and the acks it sends wait for that commit (the output gate), so an
 * ack is still never ahead of durability.
 *
 * A queued send has been told nothing yet: if the object dies before the batch runs, the
 * client never saw an ack and sends again. Timers can run late while frames keep coming
 * (wake-up.ts), so a batch that has waited `maxWaitMs`, or grown to `maxBatch`, runs at
 * once with the work that found it so.
 */
export class GroupCommit {
  private queued: (() => void)[] = []
  private since = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly afterBatch: () => void
  private readonly maxBatch: number
  private readonly maxWaitMs: number
  /** Batches run and work run in them, since the object woke (the room's stats). */
  batches = 0
  ran = 0

  constructor(options: GroupCommitOptions = {}) {
    this.afterBatch = options.afterBatch ?? (() => {})
    this.maxBatch = options.maxBatch ?? 1_000
    this.maxWaitMs = options.maxWaitMs ?? 20
  }

  /** Runs `work` with the rest of its batch, in order; resolves with what it returned. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (!this.queued.length) this.since = Date.now()
      this.queued.push(() => {
        try {
          resolve(work())
        } catch (err) {
          reject(err)
        }
      })
      const due = Date.now() - this.since >= this.maxWaitMs
      if (due || this.queued.length >= this.maxBatch) this.runBatch()
      else this.timer ??= setTimeout(() => this.runBatch(), 0)
    })
  }

  /** Work queued and not yet run. */
  get waiting(): number {
    return this.queued.length
  }

  private runBatch(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.queued
    this.queued = []
    this.batches += 1
    this.ran += batch.length
    for (const work of batch) work()
    queueMicrotask(this.afterBatch)
  }
}
