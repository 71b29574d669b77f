import type { Ack } from '../../shared/protocol'
import type { Pacer } from './pacer'

interface Pending {
  clientMsgId: string
  body: string
  resolve: (ack: Ack) => void
  reject: (err: Error) => void
  attempts: number
  sent: boolean
  timer?: ReturnType<typeof setTimeout>
}

/**
 * Sends not yet acked, oldest first. At most `maxInFlight` are out at once, paced to the
 * room's limits; after a reconnect every unacked send goes again with its clientMsgId
 * (the room answers a retry with the original ack); a send the room could not take yet
 * (`unavailable`, `rate_limited`) is retried with backoff.
 */
export class SendOutbox {
  private readonly pending = new Map<string, Pending>()
  private pumpTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly isOpen: () => boolean,
    private readonly transmit: (frame: { type: 'send'; clientMsgId: string; body: string }) => void,
    private readonly pacer: Pacer,
    private readonly maxInFlight: number,
  ) {}

  get size(): number {
    return this.pending.size
  }

  /** Queues a send; a second send with the same clientMsgId shares the first one's ack. */
  add(clientMsgId: string, body: string): Promise<Ack> {
    const existing = this.pending.get(clientMsgId)
    return new Promise<Ack>((resolve, reject) => {
      if (existing) {
        const [first, firstFail] = [existing.resolve, existing.reject]
        existing.resolve = (ack) => {
          first(ack)
          resolve(ack)
        }
        existing.reject = (err) => {
          firstFail(err)
          reject(err)
        }
        return
      }
      this.pending.set(clientMsgId, {
        clientMsgId,
        body,
        resolve,
        reject,
        attempts: 0,
        sent: false,
      })
      this.pump()
    })
  }

  /** The connection dropped or reopened: everything unacked must go again. */
  resend(): void {
    for (const p of this.pending.values()) p.sent = false
  }

  /** Sends queued messages, oldest first, up to maxInFlight unacked at once. */
  pump(): void {
    if (!this.isOpen()) return
    let inFlight = 0
    for (const p of this.pending.values()) {
      if (p.sent) {
        inFlight++
        continue
      }
      if (p.timer || inFlight >= this.maxInFlight) continue
      if (!this.pacer.take()) {
        this.pumpLater()
        return
      }
      p.sent = true
      p.attempts++
      inFlight++
      this.transmit({ type: 'send', clientMsgId: p.clientMsgId, body: p.body })
    }
  }

  acked(ack: Ack): void {
    const p = this.pending.get(ack.clientMsgId)
    if (!p) return
    this.pending.delete(ack.clientMsgId)
    p.resolve({ clientMsgId: ack.clientMsgId, seq: ack.seq, id: ack.id })
    this.pump()
  }

  /** An error frame for one send: retried later (returns the delay) or failed for good (null). */
  refused(clientMsgId: string, code: string, err: Error): number | null | undefined {
    const p = this.pending.get(clientMsgId)
    if (!p) return undefined
    if (code === 'unavailable' || code === 'rate_limited') {
      // Not stored: try again later with the same clientMsgId.
      p.sent = false
      const delay = Math.min(10_000, 250 * 2 ** Math.min(p.attempts, 6)) * (0.5 + Math.random() / 2)
      p.timer = setTimeout(() => {
        p.timer = undefined
        this.pump()
      }, delay)
      return Math.round(delay)
    }
    this.pending.delete(clientMsgId)
    p.reject(err)
    this.pump()
    return null
  }

  has(clientMsgId: string): boolean {
    return this.pending.has(clientMsgId)
  }

  failAll(err: Error): void {
    clearTimeout(this.pumpTimer)
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(err)
    }
    this.pending.clear()
  }

  private pumpLater(): void {
    this.pumpTimer ??= setTimeout(() => {
      this.pumpTimer = undefined
      this.pump()
    }, this.pacer.interval)
  }
}
