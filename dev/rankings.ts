import { Redis } from 'ioredis'
import { rebuildRankings } from '../origin/analytics/rankings'
import { createDatabase } from '../origin/db'
import { originConfigSchema } from '../shared/config'
import { redact } from './database'

/**
 * `npm run rankings:rebuild`: recounts today's, this week's and the all-time rankings from
 * MySQL's rollups into Redis — after Redis lost them, or after the origin logged
 * "rankings not updated". DATABASE_URL and REDIS_URL as the origin's.
 */
export async function rebuild(databaseUrl: string, redisUrl: string) {
  const database = createDatabase({
    DATABASE_URL: databaseUrl,
    DATABASE_REPLICA_URLS: [],
    DATABASE_POOL_SIZE: 2,
  })
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true })
  try {
    await redis.connect()
    return await rebuildRankings(database.primary, redis)
  } finally {
    redis.disconnect()
    await database.close()
  }
}

if (process.argv[1]?.endsWith('rankings.ts')) {
  const shape = originConfigSchema.shape
  const databaseUrl = shape.DATABASE_URL.parse(process.env.DATABASE_URL || undefined)
  const redisUrl = shape.REDIS_URL.parse(process.env.REDIS_URL || undefined)
  try {
    const counts = await rebuild(databaseUrl, redisUrl)
    for (const [ranking, n] of Object.entries(counts)) console.log(`${ranking}: ${n} ranked`)
  } catch (err) {
    console.error(`rankings:rebuild failed on ${redact(databaseUrl)}: ${(err as Error).message}`)
    process.exit(1)
  }
}
