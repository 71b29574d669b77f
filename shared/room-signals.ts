import { cacheKeys } from './cache-keys'

/**
 * The rooms' signals, as the origin exports them (observability issue). A room counts in
 * memory and reports to its relay at most every SIGNALS_INTERVAL_MS (an RPC it makes
 * anyway to hand messages over goes to the same object); the relay adds its own — how many
 * messages wait for MySQL, since when, how its shipments went — and writes them all to
 * Redis on the same interval, off every request's path. The origin's metrics read both
 * hashes at each scrape. Fields are fixed per relay (RELAY_COUNT of them): bounded.
 */
export const roomSignalsKey = cacheKeys.roomSignals
export const relaySignalsKey = cacheKeys.relaySignals

/** Counters (HINCRBY on `roomSignalsKey`), summed over every room and relay. */
export const roomCounters = [
  /** Messages a room numbered and stored (WebSocket and HTTP sends). */
  'accepted',
  /** Replays served to sockets that reconnected or resumed… */
  'replays',
  /** …and the gap frames among them (the client pages those from history). */
  'gaps',
  /** Shipments a relay sent to the origin, and those that failed (retried). */
  'shipments',
  'shipments_failed',
] as const
export type RoomCounter = (typeof roomCounters)[number]

/** A relay's gauges (HSET `${relay}:${gauge}` on `relaySignalsKey`), as of `at`. */
export const relayGauges = [
  /** Open sockets in the relay's rooms, as each room last reported… */
  'sockets',
  /** …and in its fullest room (the Durable Object's WebSocket ceiling is per room). */
  'max_room_sockets',
  /** Messages acked by their rooms and waiting at the relay for MySQL (the outbox depth). */
  'held',
  /** When the oldest of them was accepted (ms since the epoch; 0: none waiting). */
  'oldest_at',
  /** When the relay wrote these (ms since the epoch). */
  'at',
] as const
export type RelayGauge = (typeof relayGauges)[number]

/** What a room tells its relay: its sockets now, and its counts since its last report. */
export interface RoomReport {
  sockets: number
  accepted: number
  replays: number
  gaps: number
}
