import type { Redis } from 'ioredis'
import { cacheKeys } from '../shared/cache-keys'
import { ApiError } from '../shared/errors'

/**
 * Cache invalidation by generation counters (DESIGN §2.4). The edge stores each entry
 * with the generation it read *before* querying; bumping a scope's counter makes every
 * entry of the old generation unreadable at once, with no KEYS/SCAN.
 */
export function cacheInvalidator(redis: Redis) {
  return {
    async bump(scopes: string[]): Promise<void> {
      const multi = redis.multi()
      for (const scope of scopes) multi.incr(cacheKeys.generation(scope))
      try {
        const results = await multi.exec()
        const failed = results?.find(([err]) => err)
        if (!results || failed) throw failed?.[0] ?? new Error('transaction aborted')
      } catch (err) {
        throw new ApiError(
          'unavailable',
          'Cache invalidation is unavailable; nothing was changed, retry shortly',
          {
            headers: { 'Retry-After': '2' },
            details: { cause: (err as Error).message },
          },
        )
      }
    },
  }
}
export type CacheInvalidator = ReturnType<typeof cacheInvalidator>
