import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { ApiError } from '../../shared/errors'
import { toHex } from '../../shared/hex'
import { canonicalText, readSignatureHeaders } from '../../shared/internal/signature'
import type { OriginEnv } from '../env'

const EMPTY_BODY_SHA256 = createHash('sha256').digest('hex')

/**
 * The shared signature (shared/internal/signature.ts) verified with node:crypto: the same
 * canonical text and MAC as the edge's WebCrypto, computed synchronously — WebCrypto's
 * async job dispatch was the origin's largest single cost per request.
 */
export function verifySignature(
  secrets: readonly string[],
  request: { method: string; pathWithQuery: string; headers: Headers; body: Uint8Array },
  options: { windowMs: number; now?: number },
): { ok: true; userId: string; mac: Uint8Array } | { ok: false; reason: string } {
  const read = readSignatureHeaders(request.headers, options)
  if (!read.ok) return read
  const bodyHash = request.body.byteLength
    ? createHash('sha256').update(request.body).digest('hex')
    : EMPTY_BODY_SHA256
  const text = canonicalText({
    ...request,
    timestamp: read.timestamp,
    userId: read.userId,
    nonce: read.nonce,
    bodyHash,
  })
  for (const secret of secrets) {
    if (timingSafeEqual(createHmac('sha256', secret).update(text).digest(), read.mac)) {
      return { ok: true, userId: read.userId, mac: read.mac }
    }
  }
  return { ok: false, reason: 'bad signature' }
}

const bodyless = new Set(['GET', 'HEAD', 'OPTIONS'])
const noBody = new Uint8Array()

/**
 * Trust boundary (DESIGN §2.7): the origin takes identity only from requests the edge
 * signed. Anything unsigned, stale or tampered is 401 before any handler runs.
 */
export function edgeSignature(options: {
  secrets: string[]
  windowMs: number
  /** Claims a write's signature; false when it was seen before (a replay). */
  firstUse?: (macHex: string) => Promise<boolean>
}): MiddlewareHandler<OriginEnv> {
  return async (c, next) => {
    const url = c.req.url
    const pathStart = url.indexOf('/', url.indexOf('//') + 2)
    const pathWithQuery = pathStart < 0 ? '/' : url.slice(pathStart)
    // A read has no body: never materialize the request's stream for it.
    const body = bodyless.has(c.req.method) ? noBody : new Uint8Array(await c.req.arrayBuffer())
    const result = verifySignature(
      options.secrets,
      { method: c.req.method, pathWithQuery, headers: c.req.raw.headers, body },
      { windowMs: options.windowMs },
    )
    if (!result.ok) {
      c.var.log.warn({ reason: result.reason, path: c.req.path }, 'rejected unsigned request')
      throw new ApiError('unauthorized', `Request not signed by the edge: ${result.reason}`)
    }
    // A replayed write would repeat its effect; a replayed read changes nothing, and the
    // ingest is idempotent by its key.
    const isWrite = !bodyless.has(c.req.method) && pathWithQuery.startsWith('/v1/')
    if (isWrite && options.firstUse && !(await options.firstUse(toHex(result.mac)))) {
      c.var.log.warn({ path: c.req.path }, 'rejected a replayed signed request')
      throw new ApiError('unauthorized', 'Request not signed by the edge: replayed signature')
    }
    c.set('userId', result.userId)
    await next()
  }
}
