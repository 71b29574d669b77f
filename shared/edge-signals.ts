import { cacheKeys } from './cache-keys'

/**
 * The edge's counters, as the origin exports them (observability issue): each isolate
 * counts in memory and adds its increments to the next Upstash pipeline a request sends
 * anyway (HINCRBY on one hash), so no request pays a round trip for them; the origin's
 * metrics read the hash at each scrape. A fixed set of fields: bounded, whatever happens.
 */
export const edgeSignalsKey = cacheKeys.edgeSignals

export const edgeSignals = {
  cache: ['HIT', 'MISS', 'STALE', 'BYPASS'],
  rateLimit: ['allowed', 'refused', 'fail_open'],
  breakerDependencies: ['redis', 'database', 'origin'],
  /** opened − closed, summed over isolates: how many isolates hold the circuit open now. */
  breakerEvents: ['opened', 'closed', 'short_circuited'],
} as const

export type EdgeSignal =
  | `cache:${(typeof edgeSignals.cache)[number]}`
  | `rate_limit:${(typeof edgeSignals.rateLimit)[number]}`
  | `breaker:${(typeof edgeSignals.breakerDependencies)[number]}:${(typeof edgeSignals.breakerEvents)[number]}`
