import type { Redis } from 'ioredis'
import { cacheKeys } from '../shared/cache-keys'
import { ApiError } from '../shared/errors'
import type { Database, Transaction } from './db'
import { replies } from './redis-replies'

/**
 * Cache invalidation by generation counters (DESIGN §2.4). The edge stores each entry
 * with the generation it read *before* querying; bumping a scope's counter makes every
 * entry of the old generation unreadable at once, with no KEYS/SCAN.
 */
export function cacheInvalidator(redis: Redis) {
  async function bump(scopes: string[]): Promise<void> {
    if (!scopes.length) return
    const multi = redis.multi()
    for (const scope of scopes) multi.incr(cacheKeys.generation(scope))
    try {
      await replies(multi)
    } catch (err) {
      throw new ApiError(
        'unavailable',
        'Cache invalidation is unavailable; nothing was changed, retry shortly',
        { headers: { 'Retry-After': '2' }, details: { cause: (err as Error).message } },
      )
    }
  }

  return {
    bump,
    /**
     * The rule around every write that changes what the edge caches: bump inside the
     * write's transaction, so a Redis outage aborts the write (503) instead of committing
     * something the cache cannot forget, and again after commit, which orphans any entry
     * filled between the two from pre-commit data.
     */
    async around<T>(
      db: Pick<Database['primary'], 'transaction'>,
      scopes: string[],
      write: (tx: Transaction) => Promise<T>,
    ): Promise<T> {
      const result = await db.transaction(async (tx) => {
        const value = await write(tx)
        await bump(scopes)
        return value
      })
      await bump(scopes)
      return result
    },
  }
}
export type CacheInvalidator = ReturnType<typeof cacheInvalidator>
