import { Hono } from 'hono'
import { PublishBody, routes } from '../../shared/api'
import { ApiError } from '../../shared/errors'
import { verifyRequest } from '../../shared/internal/signature'
import type { AppEnv } from '../env'
import { lookupAccess, roomObject } from '../rooms/access'
import { parse, readJson } from '../validate'

/** How old a signed publish may be: a replay inside it is harmless (same key, same ack). */
const PUBLISH_WINDOW_MS = 30_000

/**
 * Server publish: a trusted backend (a customer's server with PUBLISH_SIGNING_SECRET, or
 * the origin's event outbox with the edge secret) puts a message into a room with a user's
 * guarantees. The signature is checked before anything else is read or asked.
 */
export const publishRoutes = new Hono<AppEnv>()

publishRoutes.post('/v1/rooms/:id/publish', async (c) => {
  const config = c.var.config
  const url = new URL(c.req.url)
  const secrets = [config.PUBLISH_SIGNING_SECRET, config.EDGE_SIGNING_SECRET].filter(
    (s): s is string => !!s,
  )
  const verdict = await verifyRequest(
    secrets,
    {
      method: 'POST',
      pathWithQuery: url.pathname + url.search,
      headers: c.req.raw.headers,
      body: new Uint8Array(await c.req.arrayBuffer()),
    },
    { windowMs: PUBLISH_WINDOW_MS },
  )
  if (!verdict.ok) {
    throw new ApiError('unauthorized', `Publishing needs a valid signature: ${verdict.reason}`)
  }
  const { id } = parse(routes.publishToRoom.request.params, c.req.param())
  const { idempotencyKey, body } = await readJson(c, PublishBody)
  const { room } = await lookupAccess(c, id, '')
  if (!room) throw new ApiError('not_found', 'No such room')
  const result = await roomObject(c, id).post('system', idempotencyKey, body)
  if (result.ok) {
    const { seq, id: messageId } = result.ack
    return c.json({ idempotencyKey, seq, id: messageId }, 201)
  }
  throw new ApiError(result.code, result.message, {
    headers: result.code === 'unavailable' ? { 'Retry-After': '5' } : {},
    details: { idempotencyKey },
  })
})
