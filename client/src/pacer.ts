import type { RoomLimits } from '../../shared/protocol'

/**
 * Paces frames to the room's advertised limits (`welcome.limits`), so the room never has
 * to refuse us: a token bucket with a little headroom under them (clock skew, typing and
 * read frames share it). Unlimited until the first welcome.
 */
export class Pacer {
  private tokens = 0
  private at = 0
  rate = 0
  private burst = 0

  configure(limits: RoomLimits): void {
    // The tighter of the socket's and the user's budget (older rooms advertise only the first).
    const rate = Math.min(
      limits.framesPerSecond,
      limits.userSendsPerSecond ?? Number.POSITIVE_INFINITY,
    )
    const burst = Math.min(limits.burst, limits.userSendsBurst ?? Number.POSITIVE_INFINITY)
    this.rate = rate * 0.9
    this.burst = Math.max(1, Math.floor(burst / 2))
    this.tokens = this.burst
    this.at = Date.now()
  }

  /** Takes one frame's worth; false when the room would refuse it now. */
  take(): boolean {
    if (!this.rate) return true
    const now = Date.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate)
    this.at = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** How long until the next frame's worth, ms. */
  get interval(): number {
    return Math.ceil(1000 / this.rate)
  }
}
