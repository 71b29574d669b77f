/**
 * The sliding window (the algorithm of @upstash/ratelimit's slidingWindow): the current
 * fixed window's count plus the previous window's, weighted by how much of it the sliding
 * window still overlaps. Written twice on purpose — as the Lua script Redis runs (one
 * EVALSHA per rule, so the check rides in the request's one Upstash pipeline) and as
 * `decide`, the same steps in TypeScript, which the in-isolate fallback runs and the unit
 * tests pin.
 * KEYS: current window, previous window. ARGV: limit, now (ms), window (ms).
 * Returns {allowed 0|1, used}.
 */
export const SLIDING_WINDOW = `
local limit = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local weighted = math.floor(previous * (window - (now % window)) / window)
if weighted + current >= limit then
  return {0, limit}
end
current = redis.call('INCR', KEYS[1])
if current == 1 then
  redis.call('PEXPIRE', KEYS[1], window * 2 + 1000)
end
return {1, weighted + current}
`

export interface Verdict {
  success: boolean
  limit: number
  remaining: number
  /** Unix ms when the current window ends. */
  reset: number
}

/** The fixed window `now` falls in. */
export function windowIndex(now: number, windowMs: number): number {
  return Math.floor(now / windowMs)
}

/** Redis keys of the current and previous window of one bucket. */
export function windowKeys(bucket: string, now: number, windowMs: number): [string, string] {
  const index = windowIndex(now, windowMs)
  return [`${bucket}:${index}`, `${bucket}:${index - 1}`]
}

/** The previous window's count, weighted by its overlap with the sliding window ending now. */
export function weighted(previous: number, now: number, windowMs: number): number {
  return Math.floor((previous * (windowMs - (now % windowMs))) / windowMs)
}

/** The script's decision: allowed (and the count to add) and how many are used. */
export function decide(
  limit: number,
  counts: { current: number; previous: number },
  now: number,
  windowMs: number,
): { allowed: boolean; used: number } {
  const w = weighted(counts.previous, now, windowMs)
  if (w + counts.current >= limit) return { allowed: false, used: limit }
  return { allowed: true, used: w + counts.current + 1 }
}

/** A script reply `[allowed, used]` as the verdict a response reports. */
export function verdictOf(limit: number, now: number, windowMs: number, reply: unknown): Verdict {
  const [allowed, used] = reply as [number, number]
  return {
    success: allowed === 1,
    limit,
    remaining: Math.max(0, limit - Number(used)),
    reset: (windowIndex(now, windowMs) + 1) * windowMs,
  }
}
