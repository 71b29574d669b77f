import type { Context } from 'hono'
import { ApiError } from '../shared/errors'
import { verifyRequest } from '../shared/internal/signature'
import type { AppEnv } from './env'

/** How old a signed call to the edge may be. */
const SIGNATURE_WINDOW_MS = 30_000

/**
 * Calls to the edge signed like the edge's own calls to the origin (operators, the
 * origin's events and tiles, customers' publishes): checked before anything else is read
 * or asked, 401 otherwise.
 */
export async function requireSignature(
  c: Context<AppEnv>,
  secrets: Array<string | undefined>,
  what: string,
): Promise<void> {
  const url = new URL(c.req.url)
  const body = new Uint8Array(await c.req.arrayBuffer())
  const verdict = await verifyRequest(
    secrets.filter((s): s is string => !!s),
    {
      method: c.req.method,
      pathWithQuery: url.pathname + url.search,
      headers: c.req.raw.headers,
      body,
    },
    { windowMs: SIGNATURE_WINDOW_MS },
  )
  if (!verdict.ok) throw new ApiError('unauthorized', `${what}: ${verdict.reason}`)
}
