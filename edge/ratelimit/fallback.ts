import { decide, type Verdict, windowIndex } from './sliding-window'

/** Fail-open events in this isolate: Redis unreachable or too slow. Reported by /health. */
export const rateLimitStats = { failOpen: 0, lastFailOpenAt: 0 }

const MAX_BUCKETS = 10_000
const counts = new Map<string, { index: number; current: number; previous: number }>()

/**
 * The limiter while Redis is away: the same sliding window, counted in this isolate only.
 * Coarser (each isolate counts alone), but never unlimited; bounded in memory.
 */
export function localVerdict(
  bucket: string,
  limit: number,
  windowMs: number,
  now: number,
): Verdict {
  const index = windowIndex(now, windowMs)
  let entry = counts.get(bucket)
  if (!entry || entry.index < index - 1) entry = { index, current: 0, previous: 0 }
  else if (entry.index === index - 1) entry = { index, current: 0, previous: entry.current }
  counts.delete(bucket)
  counts.set(bucket, entry)
  if (counts.size > MAX_BUCKETS) counts.delete(counts.keys().next().value as string)
  const { allowed, used } = decide(limit, entry, now, windowMs)
  if (allowed) entry.current += 1
  return {
    success: allowed,
    limit,
    remaining: Math.max(0, limit - used),
    reset: (index + 1) * windowMs,
  }
}
