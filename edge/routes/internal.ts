import { Hono } from 'hono'
import { routes } from '../../shared/api'
import { ApiError } from '../../shared/errors'
import { verifyRequest } from '../../shared/internal/signature'
import type { AppEnv } from '../env'
import { roomObject } from '../rooms/access'
import { parse } from '../validate'

/** Signed calls for operators and tests (EDGE_SIGNING_SECRET), never public. */
export const internalRoutes = new Hono<AppEnv>()

/** A room's own bookkeeping: seq, outbox, window, sockets, wakes. */
internalRoutes.get('/internal/rooms/:id/stats', async (c) => {
  const url = new URL(c.req.url)
  const verdict = await verifyRequest(
    [c.var.config.EDGE_SIGNING_SECRET],
    {
      method: 'GET',
      pathWithQuery: url.pathname + url.search,
      headers: c.req.raw.headers,
      body: new Uint8Array(),
    },
    { windowMs: 30_000 },
  )
  if (!verdict.ok) throw new ApiError('unauthorized', `Signature required: ${verdict.reason}`)
  const { id } = parse(routes.getRoom.request.params, c.req.param())
  return c.json(await roomObject(c, id).stats())
})
