/**
 * The sliding window (the algorithm of @upstash/ratelimit's slidingWindow): the current
 * fixed window's count plus the previous window's count weighted by how much of it still
 * overlaps the sliding window. One EVALSHA per rule, so the check can ride in the same
 * Upstash pipeline as a cached read (docs/ARCHITECTURE.md, "One round trip per HIT"); the
 * read-path benchmark times that same pipeline.
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
