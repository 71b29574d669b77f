import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  edgeConfigSchema,
  loadConfig,
  originConfigSchema,
} from '../../../shared/config'

describe('config', () => {
  it('fills defaults and coerces numbers and lists', () => {
    const config = loadConfig(originConfigSchema, {
      EDGE_SIGNING_SECRET: 'x'.repeat(32),
      JWT_SIGNING_KEY: JSON.stringify({
        kty: 'OKP',
        crv: 'Ed25519',
        kid: 'k1',
        x: 'x'.repeat(43),
        d: 'd'.repeat(43),
      }),
      ORIGIN_WORKERS: '3',
      DATABASE_REPLICA_URLS: 'mysql://r1/plaza, mysql://r2/plaza',
    })
    expect(config.ORIGIN_WORKERS).toBe(3)
    expect(config.ORIGIN_PORT).toBe(8788)
    expect(config.DATABASE_REPLICA_URLS).toEqual(['mysql://r1/plaza', 'mysql://r2/plaza'])
  })

  it('names every missing or malformed variable', () => {
    const attempt = () =>
      loadConfig(edgeConfigSchema, {
        ORIGIN_URL: 'not a url',
        EDGE_SIGNING_SECRET: 'short',
        BODY_LIMIT_BYTES: '-5',
      })
    expect(attempt).toThrow(ConfigError)
    const problems = (() => {
      try {
        attempt()
      } catch (err) {
        return (err as ConfigError).problems.join('\n')
      }
    })()
    expect(problems).toMatch(/^ORIGIN_URL: /m)
    expect(problems).toMatch(/^EDGE_SIGNING_SECRET: must be at least 32 characters/m)
    expect(problems).toMatch(/^UPSTASH_REDIS_REST_URL is required but not set/m)
    expect(problems).toMatch(/^DATABASE_READ_URL is required but not set/m)
    expect(problems).toMatch(/^BODY_LIMIT_BYTES: /m)
  })

  it('parses JSON variables and names the one that is not JSON or lacks a kid', () => {
    const base = { EDGE_SIGNING_SECRET: 'x'.repeat(32) }
    expect(() => loadConfig(originConfigSchema, { ...base, JWT_SIGNING_KEY: '{not json' })).toThrow(
      /JWT_SIGNING_KEY: must be valid JSON/,
    )
    expect(() =>
      loadConfig(originConfigSchema, {
        ...base,
        JWT_SIGNING_KEY: JSON.stringify({
          kty: 'OKP',
          crv: 'Ed25519',
          x: 'x'.repeat(43),
          d: 'd'.repeat(43),
        }),
      }),
    ).toThrow(/JWT_SIGNING_KEY\.kid/)
  })

  it('treats an empty variable as unset', () => {
    expect(() => loadConfig(originConfigSchema, { EDGE_SIGNING_SECRET: '' })).toThrow(
      /EDGE_SIGNING_SECRET is required/,
    )
  })
})
