import { Hono } from 'hono'
import { type HistoryQuery, messageFromRow, routes } from '../../shared/api'
import { cacheKeys, cacheScopes } from '../../shared/cache-keys'
import { ApiError } from '../../shared/errors'
import type { Message, MessagePage } from '../../shared/message'
import { listMessages, roomRetentionOf } from '../../shared/queries'
import { cachedRead } from '../cache'
import { clients } from '../clients'
import { fromDatabase } from '../database'
import type { AppEnv } from '../env'
import { rateLimit } from '../middleware/ratelimit'
import type { RoomHistory } from '../room'
import { requireAccess, roomObject } from '../rooms/access'
import { parse } from '../validate'

/** History at the edge: `GET /v1/rooms/:id/messages`. */
export const historyRoutes = new Hono<AppEnv>()

/**
 * A page, oldest first: what the room still holds (its window, and everything not yet in
 * MySQL) merged with MySQL's part below the window. A message acked a moment ago is
 * always in the newest page, with no invalidation at all.
 */
async function assemble(
  window: RoomHistory,
  q: HistoryQuery,
  older: (before: number, limit: number) => Promise<Message[]>,
): Promise<MessagePage> {
  let items = window.items
  const forward = q.after !== undefined
  const floor = q.after ?? 0
  if (floor + 1 < window.lowestHeld && (forward || items.length < q.limit)) {
    // Part of the page is older than the room's window: MySQL has all of it.
    const before = Math.min(window.lowestHeld, q.before ?? window.lowestHeld)
    const rows = await older(before, forward ? q.limit : q.limit - items.length)
    items = forward ? [...rows, ...items].slice(0, q.limit) : [...rows, ...items]
  }
  return { items, full: items.length === q.limit }
}

/**
 * A page that can never change again is cached for CACHE_TTL_HISTORY_SECONDS: full, and
 * every message it could hold already in MySQL — its range ends at or below what the room
 * has landed in MySQL (`before` pages: every seq below `before` is handed out and landed). The
 * newest page, and any page reaching into what has not landed yet, is assembled every time
 * (BYPASS), so a message acked a moment ago is always there.
 */
export function immutable(q: HistoryQuery, page: MessagePage, room: RoomHistory): boolean {
  if (!page.full) return false
  const last = page.items.at(-1)?.seq ?? 0
  if (q.after !== undefined) return last <= room.landedThrough
  return q.before !== undefined && q.before - 1 <= room.landedThrough
}

/**
 * A bounded page whose range retention has taken (DESIGN: retention by date) is 410 `gone`,
 * with where history now starts; a page reaching only partly below it gets what is left.
 * Archived messages are the operators' (messages_archive, the CSV export), not the API's.
 */
export function refuseRetained(
  q: HistoryQuery,
  retention: { archivedThrough: number; deletedThrough: number },
): void {
  const through = Math.max(retention.archivedThrough, retention.deletedThrough)
  if (!through) return
  // The requested seq that is gone: the first of an `after` range, the last of a `before` one.
  const asked =
    q.after !== undefined && q.after < through
      ? q.after + 1
      : q.before !== undefined && q.before - 1 <= through
        ? q.before - 1
        : null
  if (asked === null) return
  const reason = asked <= retention.deletedThrough ? 'deleted' : 'archived'
  throw new ApiError(
    'gone',
    `Messages up to seq ${through} of this room were ${reason} by retention; history starts at seq ${through + 1}`,
    { details: { reason, availableFrom: through + 1, ...retention } },
  )
}

historyRoutes.get('/v1/rooms/:id/messages', rateLimit({ withRead: true }), async (c) => {
  const { id } = parse(routes.listMessages.request.params, c.req.param())
  const q = parse(routes.listMessages.request.query, c.req.query())
  await requireAccess(c, id)
  const { readDb } = clients(c.get('config'))
  const bounded = q.before !== undefined || q.after !== undefined
  let room: RoomHistory | undefined
  return cachedRead<MessagePage>(c, {
    scope: cacheScopes.history(id),
    key: bounded ? cacheKeys.messagePage(id, q.before ?? '', q.after ?? '', q.limit) : null,
    ttlSeconds: c.get('config').CACHE_TTL_HISTORY_SECONDS,
    notFound: 'No such room',
    storable: (page) => !!room && immutable(q, page, room),
    load: async () => {
      room = await roomObject(c, id).history(q)
      return assemble(room, q, async (before, limit) => {
        const [rows, retention] = await fromDatabase(c.get('requestId'), () =>
          Promise.all([
            listMessages(readDb, id, { after: q.after, before, limit }),
            roomRetentionOf(readDb, id),
          ]),
        )
        refuseRetained(q, retention)
        return rows.map(messageFromRow)
      })
    },
  })
})
