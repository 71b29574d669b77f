import type { Pipeline, Redis } from '@upstash/redis'
import type { Guard } from './breakers'
import { rideAlong } from './signals'

/** One command's answer in an Upstash pipeline run with `keepErrors`. */
export type Reply = { result?: unknown; error?: string }

/**
 * Something that adds its commands to a request's Upstash round trip and must see their
 * replies before the request goes on (the rate limiter: a refusal throws 429 from
 * `settle`). `settle(null, err)` means Redis did not answer.
 */
export interface Rider {
  append(pipeline: Pipeline): Promise<number>
  settle(replies: Reply[] | null, err?: unknown): Promise<void>
}

export type RoundTripVariables = { roundTrip?: RoundTrip }

/**
 * A request's one Upstash round trip. Middleware that needs Redis rides along (`ride`);
 * the handler that reads (the cached read) runs it with its own commands (`exec`), so a
 * cache HIT with a rate limit costs one pipeline. Neither knows what the other sends.
 */
export class RoundTrip {
  private riders: Rider[] = []

  constructor(
    private readonly redis: Redis,
    /** Redis's circuit breaker: while it is open the pipeline fails at once. */
    private readonly guard: Guard,
  ) {}

  ride(rider: Rider): void {
    this.riders.push(rider)
  }

  /**
   * Sends the riders' commands and then `own`'s in one pipeline; the riders settle first
   * (and may throw), then the caller gets its replies. A transport failure settles the
   * riders with null and is thrown to the caller.
   */
  async exec(own: (pipeline: Pipeline) => void = () => {}): Promise<Reply[]> {
    const riders = this.riders
    this.riders = []
    const pipeline = this.redis.pipeline()
    const counts: number[] = []
    for (const rider of riders) counts.push(await rider.append(pipeline))
    own(pipeline)
    const ownEnd = pipeline.length()
    if (ownEnd === 0) return []
    // The edge's counters ride too: never a pipeline of their own.
    const signals = rideAlong(pipeline)
    let replies: Reply[]
    try {
      replies = await this.guard.execute(() => pipeline.exec<Reply[]>({ keepErrors: true }))
    } catch (err) {
      signals.putBack()
      for (const rider of riders) await rider.settle(null, err)
      throw err
    }
    let at = 0
    for (const [i, rider] of riders.entries()) {
      await rider.settle(replies.slice(at, at + counts[i]!))
      at += counts[i]!
    }
    return replies.slice(at, ownEnd)
  }
}

/** The request's round trip, begun by whoever needs it first. */
export function roundTripOf(
  c: {
    get(key: 'roundTrip'): RoundTrip | undefined
    set(key: 'roundTrip', value: RoundTrip): void
  },
  redis: Redis,
  guard: Guard,
): RoundTrip {
  let trip = c.get('roundTrip')
  if (!trip) {
    trip = new RoundTrip(redis, guard)
    c.set('roundTrip', trip)
  }
  return trip
}
