import type { Context } from 'hono'
import { ApiError } from '../../shared/errors'
import { roomAccess } from '../../shared/queries'
import type { Room } from '../../shared/schema'
import { clients } from '../clients'
import { fromDatabase } from '../database'
import type { AppEnv } from '../env'

/** The room's Durable Object, addressed by the room id (the object reads it as `ctx.id.name`). */
export function roomObject(c: Context<AppEnv>, roomId: string) {
  return c.env.ROOMS.getByName(roomId)
}

/**
 * Room records never change after creation (no rename, no privacy switch), so each isolate
 * keeps the ones it has seen: a public room's sockets and sends then need no database
 * read for access at all. Bounded; the oldest goes first.
 */
const knownRooms = new Map<string, Room>()
const MAX_KNOWN_ROOMS = 10_000

/** The room (null: none) and whether `userId` is a member (looked up for private rooms only). */
export async function lookupAccess(c: Context<AppEnv>, roomId: string, userId: string) {
  const db = clients(c.get('config')).readDb
  const found = await fromDatabase(c.get('requestId'), () =>
    roomAccess(db, roomId, userId, knownRooms.get(roomId)),
  )
  if (found.room && !knownRooms.has(roomId)) {
    knownRooms.set(roomId, found.room)
    if (knownRooms.size > MAX_KNOWN_ROOMS)
      knownRooms.delete(knownRooms.keys().next().value as string)
  }
  return found
}

/**
 * Who may use a room: anyone for public rooms (signed in to write), members for private
 * ones. A private room is invisible to everyone else: the same 404, word for word, as a
 * room that does not exist, so no answer tells a stranger that it does.
 */
export async function requireAccess(c: Context<AppEnv>, roomId: string, userId = c.get('userId')) {
  const found = await lookupAccess(c, roomId, userId)
  if (!found.room || (found.room.isPrivate && !found.member)) {
    throw new ApiError('not_found', 'No such room')
  }
  return found
}
