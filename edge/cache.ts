import type { Context } from 'hono'
import { cacheKeys } from '../shared/cache-keys'
import { ApiError } from '../shared/errors'
import { sha1Hex } from '../shared/hex'
import { breakers, isOpenCircuit } from './breakers'
import { clients } from './clients'
import { databaseUnreachable } from './database'
import type { AppEnv } from './env'
import { localCopies } from './local-copies'
import { errorFields, log } from './log'
import { roundTripOf } from './round-trip'
import { countSignal } from './signals'

/** What is stored under an entry key: the body, and the generation read before it was queried. */
interface Entry {
  gen: number
  storedAt: number
  etag: string
  /** The response body, already serialized: a HIT sends it as it is. */
  text: string
}

export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'BYPASS'

export interface CachedReadOptions<T> {
  /** Invalidation scope: the origin bumps its generation on writes (shared/cache-keys.ts). */
  scope: string
  /** The entry's key; null reads without caching (still one round trip for the riders). */
  key: string | null
  ttlSeconds: number
  /** Runs the same shared query the origin would; null means 404 (`notFound`). */
  load: () => Promise<T | null>
  notFound: string
  /** Whether a loaded body may be stored (e.g. only full pages of history). */
  storable?: (body: T) => boolean
  /** Per-request authorization of a shared entry (e.g. private rooms): throw to refuse. */
  authorize?: (body: T) => Promise<void> | void
}

async function etagOf(gen: number, text: string): Promise<string> {
  return `W/"${gen}-${(await sha1Hex(text)).slice(0, 20)}"`
}

function respond(c: Context<AppEnv>, status: CacheStatus, etag: string, text: string): Response {
  countSignal(`cache:${status}`)
  c.header('x-cache', status)
  c.header('ETag', etag)
  // Browsers revalidate every time (cheap with If-None-Match), so no client ever sees an old copy.
  c.header('Cache-Control', 'no-cache')
  const match = c.req.header('if-none-match')
  if (match?.split(',').some((t) => t.trim() === etag)) return c.body(null, 304)
  return c.body(text, 200, { 'content-type': 'application/json' })
}

/** Reads the scope's generation and the entry in the request's one round trip; null: Redis failed. */
async function lookup(c: Context<AppEnv>, genKey: string, key: string | null) {
  const trip = roundTripOf(c, clients(c.get('config')).redis, breakers(c.get('config')).redis)
  try {
    const replies = await trip.exec((p) => (key ? p.get(genKey).get(key) : p))
    if (!key) return { gen: 0, entry: null }
    const [g, e] = replies
    if (g?.error || e?.error) throw new Error(`cache read failed: ${g?.error ?? e?.error}`)
    return { gen: Number(g?.result ?? 0), entry: (e?.result ?? null) as Entry | null }
  } catch (err) {
    if (err instanceof ApiError) throw err
    // While the circuit is open every request lands here: its opening was logged once.
    if (!isOpenCircuit(err)) {
      log('warn', 'cache unreachable; serving a local copy or reading the database', {
        reqId: c.get('requestId'),
        ...errorFields(err),
      })
    }
    return null
  }
}

/**
 * Cache-aside with read-your-writes (DESIGN §2.4). One Upstash round trip reads the
 * scope's generation and the entry together, with whatever rides along (the rate limit).
 * An entry counts only if it was filled under the current generation, so a write (which
 * bumps the generation) hides every older entry at once, and a slow reader that read the
 * database before the write stores its result under the old generation, where nobody looks.
 *  - HIT: entry current and younger than `ttlSeconds`
 *  - MISS: loaded from the database and stored
 *  - STALE: entry current but past its TTL and the database did not answer
 *  - BYPASS: not cached (Redis did not answer, no key, or not storable); loaded, nothing stored
 */
export async function cachedRead<T>(
  c: Context<AppEnv>,
  options: CachedReadOptions<T>,
): Promise<Response> {
  const found = await lookup(c, cacheKeys.generation(options.scope), options.key)
  const gen = found?.gen ?? 0
  const entry = found?.entry
  const current = entry && entry.gen === gen && typeof entry.text === 'string' ? entry : null
  // A shared entry is authorized per request; parsed only when there is a rule to apply.
  const authorize = async (text: string) => options.authorize?.(JSON.parse(text) as T)
  const copies = localCopies(c.get('config'))
  if (current && Date.now() - current.storedAt < options.ttlSeconds * 1000) {
    await authorize(current.text)
    if (options.key) copies.confirm(options.key, current)
    return respond(c, 'HIT', current.etag, current.text)
  }
  // Redis did not answer: the isolate's own recent copy, rather than the database for every read.
  const copy = !found && options.key ? copies.recent(options.key) : null
  if (copy) {
    await authorize(copy.text)
    return respond(c, 'STALE', copy.etag, copy.text)
  }
  let body: T | null
  try {
    body = await options.load()
  } catch (err) {
    if (err instanceof ApiError || !current)
      throw err instanceof ApiError ? err : databaseUnreachable()
    // stale-if-error: only an entry of the current generation, so never one a write has replaced.
    log('warn', 'database unreachable; serving a stale entry', {
      reqId: c.get('requestId'),
      ...errorFields(err),
    })
    await authorize(current.text)
    return respond(c, 'STALE', current.etag, current.text)
  }
  if (body === null) throw new ApiError('not_found', options.notFound)
  await options.authorize?.(body)
  const text = JSON.stringify(body)
  const etag = await etagOf(gen, text)
  const store = found && options.key && (options.storable?.(body) ?? true)
  if (!store || !options.key) return respond(c, 'BYPASS', etag, text)
  const stored: Entry = { gen, storedAt: Date.now(), etag, text }
  copies.confirm(options.key, stored)
  const ttl = options.ttlSeconds + c.get('config').CACHE_STALE_SECONDS
  const fill = breakers(c.get('config'))
    .redis.execute(() => clients(c.get('config')).redis.set(options.key!, stored, { ex: ttl }))
    .catch((err: unknown) =>
      log('warn', 'cache fill failed', { reqId: c.get('requestId'), ...errorFields(err) }),
    )
  c.executionCtx.waitUntil(fill)
  return respond(c, 'MISS', etag, text)
}
