import { Client } from '@planetscale/database'
import { Redis } from '@upstash/redis/cloudflare'
import { drizzle } from 'drizzle-orm/planetscale-serverless'
import { createLocalJWKSet } from 'jose'
import type { EdgeConfig } from '../shared/config'
import { breakers } from './breakers'
import { perIsolate } from './per-isolate'

/** The Upstash client; each command gives up after `timeoutMs` (no retries: the caller degrades). */
function upstash(config: EdgeConfig, timeoutMs: number): Redis {
  return new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    retry: false,
    signal: () => AbortSignal.timeout(timeoutMs),
    readYourWrites: false,
  })
}

/** The read-only database (PlanetScale HTTP); with `timeoutMs`, each query gives up after it. */
function readDatabase(config: EdgeConfig, timeoutMs?: number): Client {
  return new Client({
    url: config.DATABASE_READ_URL,
    fetch: timeoutMs
      ? (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) })
      : undefined,
  })
}

/**
 * The same, every query through the database's circuit breaker: a failure to reach it (or
 * a 5xx) counts, and while the circuit is open queries fail at once instead of waiting.
 */
function guardedDatabase(config: EdgeConfig): Client {
  const breaker = breakers(config).database
  return new Client({
    url: config.DATABASE_READ_URL,
    fetch: (input, init) =>
      breaker.execute(async () => {
        const res = await fetch(input, init)
        if (res.status >= 500) throw new Error(`database answered ${res.status}`)
        return res
      }),
  })
}

/**
 * The clients the edge keeps per isolate, one set per validated config: Upstash (a slow
 * Redis must not stall a request, so the cache path gives up and goes to the database),
 * the read-only database, and the public keys that verify access tokens.
 */
export const clients = perIsolate((config) => ({
  redis: upstash(config, config.RATE_LIMIT_TIMEOUT_MS * 2),
  readDb: drizzle({ client: guardedDatabase(config) }),
  jwks: createLocalJWKSet(config.JWT_JWKS),
}))

/** The same clients for `/health`, with its own timeout on every call. */
export const healthClients = perIsolate((config) => ({
  redis: upstash(config, config.HEALTH_TIMEOUT_MS),
  database: readDatabase(config, config.HEALTH_TIMEOUT_MS),
}))
