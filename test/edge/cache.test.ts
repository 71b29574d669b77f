import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { cachedRead } from '../../edge/cache'
import { clients } from '../../edge/clients'
import type { AppEnv } from '../../edge/env'
import { edgeConfig } from '../../edge/middleware/config'
import { cacheKeys } from '../../shared/cache-keys'
import { edgeConfigSchema, loadConfig } from '../../shared/config'
import { onError } from '../../shared/http'

// Runs inside workerd against the real Upstash stand-in and Redis. The "database" is a
// value the test controls, so it can hold a read in flight while a write happens.
describe('generation-checked cache: the fill race', () => {
  it('a slow fill that read before a write never leaves a stale entry that later readers see', async () => {
    const scope = `race:${crypto.randomUUID()}`
    let database = { value: 'old' }
    let releaseSlowRead!: () => void
    const slowReadHeld = new Promise<void>((resolve) => {
      releaseSlowRead = resolve
    })
    let loads = 0
    const app = new Hono<AppEnv>()
    app.use(edgeConfig())
    app.get('/thing', (c) =>
      cachedRead(c, {
        scope,
        key: `plaza:v1:test:${scope}`,
        ttlSeconds: 300,
        notFound: 'none',
        load: async () => {
          const snapshot = database
          loads += 1
          if (loads === 1) await slowReadHeld // the first reader is slow
          return snapshot
        },
      }),
    )
    app.onError(onError(() => {}))
    const get = async () => {
      const ctx = createExecutionContext()
      const res = await app.fetch(new Request('http://edge/thing'), env, ctx)
      await waitOnExecutionContext(ctx) // the cache fill, too
      return { cache: res.headers.get('x-cache'), body: (await res.json()) as { value: string } }
    }

    // 1. A reader reads the generation and the database (old), then stalls.
    const slow = get()
    while (loads === 0) await new Promise((r) => setTimeout(r, 5))
    // 2. A write lands: the database changes, then the origin bumps the generation.
    database = { value: 'new' }
    const config = loadConfig(edgeConfigSchema, env as unknown as Record<string, unknown>)
    await clients(config).redis.incr(cacheKeys.generation(scope))
    // 3. A reader after the write sees the new value.
    expect(await get()).toEqual({ cache: 'MISS', body: { value: 'new' } })
    // 4. The slow reader finishes and stores what it read, under the old generation.
    releaseSlowRead()
    expect(await slow).toEqual({ cache: 'MISS', body: { value: 'old' } })
    // 5. Every later reader: the new value, never the old one.
    for (let i = 0; i < 3; i++) expect((await get()).body).toEqual({ value: 'new' })
    expect((await get()).cache).toBe('HIT')
  })
})
