import { Client } from '@planetscale/database'
import { Redis } from '@upstash/redis/cloudflare'
import { drizzle } from 'drizzle-orm/planetscale-serverless'
import { createLocalJWKSet } from 'jose'
import type { EdgeConfig } from '../shared/config'

/**
 * Clients the edge keeps per isolate, one set per validated config: the Upstash client,
 * the read-only database, and the public keys that verify access tokens.
 */
function build(config: EdgeConfig) {
  const redis = new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    retry: false,
    // A slow Redis must not stall a request: the cache path gives up and goes to the database.
    signal: () => AbortSignal.timeout(config.RATE_LIMIT_TIMEOUT_MS * 2),
    readYourWrites: false,
  })
  const readDb = drizzle({ client: new Client({ url: config.DATABASE_READ_URL }) })
  const jwks = createLocalJWKSet(config.JWT_JWKS)
  return { redis, readDb, jwks }
}

const cache = new WeakMap<EdgeConfig, ReturnType<typeof build>>()

export function services(config: EdgeConfig) {
  let built = cache.get(config)
  if (!built) {
    built = build(config)
    cache.set(config, built)
  }
  return built
}
