import { Hono } from 'hono'
import { PublishBody, routes } from '../../shared/api'
import { ApiError } from '../../shared/errors'
import type { AppEnv } from '../env'
import { lookupAccess, roomObject } from '../rooms/access'
import { requireSignature } from '../signed'
import { parse, readJson } from '../validate'

/**
 * Server publish: a trusted backend (a customer's server with PUBLISH_SIGNING_SECRET, or
 * the origin's event outbox with the edge secret) puts a message into a room with a user's
 * guarantees. The signature is checked before anything else is read or asked.
 */
export const publishRoutes = new Hono<AppEnv>()

publishRoutes.post('/v1/rooms/:id/publish', async (c) => {
  const config = c.get('config')
  // A replay inside the signature's window is harmless: same key, same ack.
  await requireSignature(
    c,
    [config.PUBLISH_SIGNING_SECRET, config.EDGE_SIGNING_SECRET],
    'Publishing needs a valid signature',
  )
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
