import type { Redis } from 'ioredis'
import { cacheKeys } from '../shared/cache-keys'
import type { Logger } from './logger'

const MAX_LOCAL = 100_000

/**
 * A signed write takes effect once: the first request carrying a signature claims it in
 * Redis (`SET NX`, kept twice the signature window, longer than any signature verifies),
 * and an exact replay inside the window is refused. Redis unreachable: each worker
 * remembers what it has seen (bounded) — a replay to another worker could pass then, but
 * writes keep working, as DESIGN §2.6 asks.
 */
export function replayGuard(redis: Redis, windowMs: number, logger: Logger) {
  const local = new Map<string, number>()
  let warnedAt = 0
  const claimLocally = (mac: string, now: number): boolean => {
    for (const [key, until] of local) {
      if (until > now && local.size < MAX_LOCAL) break
      local.delete(key)
    }
    if ((local.get(mac) ?? 0) > now) return false
    local.set(mac, now + windowMs * 2)
    return true
  }
  return async function firstUse(mac: string): Promise<boolean> {
    try {
      const claimed = await redis.set(cacheKeys.signatureSeen(mac), '1', 'PX', windowMs * 2, 'NX')
      return claimed === 'OK'
    } catch (err) {
      const now = Date.now()
      if (now - warnedAt > 10_000) {
        warnedAt = now
        logger.warn(
          { err: (err as Error).message },
          'replay guard: Redis unreachable; per-worker memory',
        )
      }
      return claimLocally(mac, now)
    }
  }
}
