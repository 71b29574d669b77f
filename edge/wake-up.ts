/**
 * When a Durable Object should next do its work: a timer — the earliest request wins —
 * because a storage alarm per request is a write, and local alarms fire late under load;
 * plus one storage alarm as a safety net, should the object be evicted (its timers die
 * with it) while work is pending. The object's `alarm()` calls `alarmFired()` and then
 * does the same work.
 *
 * Timers can starve: under a steady stream of WebSocket frames workerd ran a room's 1 s
 * timer 6 s late (measured), while the room acked into a full outbox. So a request that
 * arrives after the pending time runs the work itself, at once.
 */
export class WakeUp {
  private timer: ReturnType<typeof setTimeout> | undefined
  private timerAt = 0
  private safetyAt = 0

  constructor(
    private readonly work: () => void,
    private readonly setAlarm: (at: number) => Promise<void>,
    private readonly safetyMs: number,
  ) {}

  /** Work at `at` (ms since the epoch) or earlier, if an earlier request is pending. */
  at(at: number): void {
    if (this.timer !== undefined && Date.now() >= this.timerAt) this.fire()
    if (this.timer === undefined || at < this.timerAt) {
      clearTimeout(this.timer)
      this.timerAt = at
      this.timer = setTimeout(() => this.fire(), Math.max(0, at - Date.now()))
    }
    if (this.safetyAt < Date.now()) {
      this.safetyAt = Date.now() + this.safetyMs
      void this.setAlarm(this.safetyAt)
    }
  }

  private fire(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.work()
  }

  /** The safety alarm fired: the next request sets a new one. */
  alarmFired(): void {
    this.safetyAt = 0
  }
}
