import type { Context } from 'hono'
import { cacheKeys } from '../shared/cache-keys'
import { ApiError } from '../shared/errors'
import type { AppEnv } from './env'
import { errorFields, log } from './log'
import type { Reply } from './middleware/ratelimit'
import { services } from './services'

/** What is stored under an entry key: the body, and the generation read before it was queried. */
interface Entry {
  gen: number
  storedAt: number
  etag: string
  /** The response body, already serialized: a HIT sends it as it is. */
  text: string
}

/** The answer when the read-only database does not answer: retryable, nothing changed. */
export function databaseUnreachable(): ApiError {
  return new ApiError('unavailable', 'The database is unreachable; retry shortly', {
    headers: { 'Retry-After': '5' },
  })
}

export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'BYPASS'

async function etagOf(gen: number, text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text))
  const hex = Array.from(new Uint8Array(digest).slice(0, 10), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('')
  return `W/"${gen}-${hex}"`
}

function respond(c: Context<AppEnv>, status: CacheStatus, etag: string, text: string): Response {
  c.header('x-cache', status)
  c.header('ETag', etag)
  // Browsers revalidate every time (cheap with If-None-Match), so no client ever sees an old copy.
  c.header('Cache-Control', 'no-cache')
  const match = c.req.header('if-none-match')
  if (match?.split(',').some((t) => t.trim() === etag)) return c.body(null, 304)
  return c.body(text, 200, { 'content-type': 'application/json' })
}

/**
 * Cache-aside with read-your-writes (DESIGN §2.4). One Upstash round trip reads the
 * scope's generation and the entry together. An entry counts only if it was filled under
 * the current generation, so a write (which bumps the generation) hides every older entry
 * at once, and a slow reader that read the database before the write stores its result
 * under the old generation, where nobody looks. `load` runs the same shared query the
 * origin would; null means 404.
 *  - HIT: entry current and younger than `ttlSeconds`
 *  - MISS: loaded from the database and stored
 *  - STALE: entry current but past its TTL and the database did not answer
 *  - BYPASS: Redis did not answer; loaded from the database, nothing stored
 */
export async function cachedRead(
  c: Context<AppEnv>,
  options: {
    scope: string
    key: string
    ttlSeconds: number
    load: () => Promise<unknown | null>
    notFound: string
    /** Per-request authorization of a shared entry (e.g. private rooms): throw to refuse. */
    authorize?: (body: unknown) => Promise<void> | void
  },
): Promise<Response> {
  const config = c.var.config
  const { redis } = services(config)
  const genKey = cacheKeys.generation(options.scope)
  // One round trip: the rate-limit check (when the route defers it here), the generation, the entry.
  const limit = c.var.limit
  const pipeline = redis.pipeline()
  const checks = limit ? await limit.append(pipeline) : 0
  pipeline.get(genKey).get(options.key)
  let gen: number
  let entry: Entry | null
  try {
    const replies = await pipeline.exec<unknown[]>({ keepErrors: true })
    await limit?.settle(replies.slice(0, checks) as Reply[])
    limit?.enforce()
    const [g, e] = replies.slice(checks) as Reply[]
    if (g?.error || e?.error) throw new Error(`cache read failed: ${g?.error ?? e?.error}`)
    gen = Number(g?.result ?? 0)
    entry = (e?.result ?? null) as Entry | null
  } catch (err) {
    if (err instanceof ApiError) throw err
    log('warn', 'cache unreachable; reading the database directly', {
      requestId: c.var.requestId,
      ...errorFields(err),
    })
    if (limit && !limit.settled) {
      await limit.settle(null, err)
      limit.enforce()
    }
    const body = await options.load()
    if (body === null) throw new ApiError('not_found', options.notFound)
    if (options.authorize) await options.authorize(body)
    const text = JSON.stringify(body)
    return respond(c, 'BYPASS', await etagOf(0, text), text)
  }

  const current = entry && entry.gen === gen && typeof entry.text === 'string' ? entry : null
  if (current && Date.now() - current.storedAt < options.ttlSeconds * 1000) {
    if (options.authorize) await options.authorize(JSON.parse(current.text))
    return respond(c, 'HIT', current.etag, current.text)
  }
  let body: unknown | null
  try {
    body = await options.load()
  } catch (err) {
    if (err instanceof ApiError) throw err
    // stale-if-error: only an entry of the current generation, so never one a write has replaced.
    if (current) {
      log('warn', 'database unreachable; serving a stale entry', {
        requestId: c.var.requestId,
        ...errorFields(err),
      })
      if (options.authorize) await options.authorize(JSON.parse(current.text))
      return respond(c, 'STALE', current.etag, current.text)
    }
    throw databaseUnreachable()
  }
  if (body === null) throw new ApiError('not_found', options.notFound)
  if (options.authorize) await options.authorize(body)
  const text = JSON.stringify(body)
  const etag = await etagOf(gen, text)
  const stored: Entry = { gen, storedAt: Date.now(), etag, text }
  const fill = redis
    .set(options.key, stored, { ex: options.ttlSeconds + config.CACHE_STALE_SECONDS })
    .catch((err: unknown) =>
      log('warn', 'cache fill failed', { requestId: c.var.requestId, ...errorFields(err) }),
    )
  c.executionCtx.waitUntil(fill)
  return respond(c, 'MISS', etag, text)
}
