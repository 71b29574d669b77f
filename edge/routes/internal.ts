import { Hono } from 'hono'
import { routes } from '../../shared/api'
import type { AppEnv } from '../env'
import { roomObject } from '../rooms/access'
import { requireSignature } from '../signed'
import { parse } from '../validate'

/** Signed calls for operators and tests (EDGE_SIGNING_SECRET), never public. */
export const internalRoutes = new Hono<AppEnv>()

/** A room's own bookkeeping: seq, outbox, window, sockets, wakes. */
internalRoutes.get('/internal/rooms/:id/stats', async (c) => {
  await requireSignature(c, [c.get('config').EDGE_SIGNING_SECRET], 'Signature required')
  const { id } = parse(routes.getRoom.request.params, c.req.param())
  return c.json(await roomObject(c, id).stats())
})
