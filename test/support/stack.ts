import { resetDatabase } from '../../dev/database'
import { type StackOptions, startStack } from '../../dev/stack'
import { databaseUrl, redisUrl } from './env'

/**
 * The whole stack for an integration suite: edge in Miniflare, free ports, and a freshly
 * migrated database, so no suite sees rows an earlier run left behind.
 */
export async function startTestStack(overrides: Partial<StackOptions> = {}) {
  const url = overrides.databaseUrl ?? databaseUrl('plaza_it')
  await resetDatabase(url)
  return startStack({
    edge: 'miniflare',
    databaseUrl: url,
    redisUrl,
    originWorkers: 1,
    ...overrides,
  })
}
