import type { Message } from '../../shared/message'
import type { Ack } from '../../shared/protocol'

/** What the edge gets back from the room's RPC entry points. */

export type SendResult =
  | { ok: true; ack: Ack }
  | { ok: false; code: 'unavailable' | 'payload_too_large' | 'rate_limited'; message: string }

export interface RoomHistory {
  items: Message[]
  lowestHeld: number
  seq: number
  /** Every seq at or below this is in MySQL. */
  landedThrough: number
}
