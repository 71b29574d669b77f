import { type StackOptions, startStack } from '../../dev/stack'
import { databaseUrl, redisUrl } from './env'

/** The whole stack for an integration suite: edge in Miniflare, its own database, free ports. */
export function startTestStack(overrides: Partial<StackOptions> = {}) {
  return startStack({
    edge: 'miniflare',
    databaseUrl: databaseUrl('plaza_it'),
    redisUrl,
    originWorkers: 1,
    ...overrides,
  })
}
