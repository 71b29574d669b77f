import { toHex } from '../../shared/hex'

let counter = 0

/**
 * A clientMsgId unique per author: random where the platform offers it, time and counter
 * always. Plain string work instead of crypto.randomUUID alone: React Native's runtime
 * lacks or only partly implements it.
 */
export function newClientMsgId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto
  if (c?.randomUUID) return c.randomUUID()
  const random = c?.getRandomValues
    ? toHex(c.getRandomValues(new Uint8Array(8)))
    : Math.random().toString(16).slice(2, 18)
  counter = (counter + 1) % 1_000_000
  return `${Date.now().toString(36)}-${counter.toString(36)}-${random}`
}
