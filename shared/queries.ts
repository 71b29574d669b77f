import { and, asc, desc, eq, gt, lt, or, sql } from 'drizzle-orm'
import type {
  MySqlDatabase,
  MySqlQueryResultHKT,
  PreparedQueryHKTBase,
} from 'drizzle-orm/mysql-core'
import { ApiError } from './errors'
import { idPattern } from './ids'
import { messages, profiles, roomMembers, roomRetention, rooms } from './schema'

/**
 * Read queries shared by the origin (mysql2) and the edge (PlanetScale HTTP): plain
 * functions of a drizzle db, so a cache miss at the edge runs exactly what the origin would.
 */
// biome-ignore lint/suspicious/noExplicitAny: any drizzle MySQL driver's database fits.
export type ReadDb = MySqlDatabase<MySqlQueryResultHKT, PreparedQueryHKTBase, any>

const preparedOn = new WeakMap<object, Map<string, unknown>>()

/**
 * A hot query built once per database (drizzle's `.prepare()`), not on every call. Over
 * read replicas (drizzle's `withReplicas`) each call still picks a replica, and each
 * replica keeps its own prepared copy.
 */
function prepared<T>(db: ReadDb, name: string, build: (db: ReadDb) => T): T {
  const replicas = (db as { $replicas?: ReadDb[] }).$replicas
  const target = replicas?.length ? replicas[Math.floor(Math.random() * replicas.length)]! : db
  let queries = preparedOn.get(target)
  if (!queries) {
    queries = new Map()
    preparedOn.set(target, queries)
  }
  let query = queries.get(name) as T | undefined
  if (!query) {
    query = build(target)
    queries.set(name, query)
  }
  return query
}

export function getProfile(db: ReadDb, userId: string) {
  return prepared(db, 'getProfile', (on) =>
    on
      .select()
      .from(profiles)
      .where(eq(profiles.userId, sql.placeholder('userId')))
      .limit(1)
      .prepare(),
  )
    .execute({ userId })
    .then((rows) => rows[0] ?? null)
}

/** A page of profile rows (the API shape is `ProfilePage` in shared/api). */
export interface ProfileRows {
  items: Array<typeof profiles.$inferSelect>
  nextCursor: string | null
}

/** Stable order: by creation time, then id; the cursor is the last row's `createdAt|id`. */
export async function listProfiles(
  db: ReadDb,
  options: { cursor?: string | null; limit: number },
): Promise<ProfileRows> {
  const after = decodeCursor(options.cursor)
  const rows = await db
    .select()
    .from(profiles)
    .where(
      after
        ? or(
            gt(profiles.createdAt, after.createdAt),
            and(eq(profiles.createdAt, after.createdAt), gt(profiles.userId, after.id)),
          )
        : undefined,
    )
    .orderBy(asc(profiles.createdAt), asc(profiles.userId))
    .limit(options.limit + 1)
  const items = rows.slice(0, options.limit)
  const last = items.at(-1)
  return {
    items,
    nextCursor:
      rows.length > options.limit && last ? encodeCursor(last.createdAt, last.userId) : null,
  }
}

function encodeCursor(createdAt: Date, id: string): string {
  return btoa(`${createdAt.getTime()}|${id}`).replace(/=+$/, '')
}

function decodeCursor(cursor: string | null | undefined): { createdAt: Date; id: string } | null {
  if (!cursor) return null
  let decoded = ''
  try {
    decoded = atob(cursor)
  } catch {
    // reported below
  }
  const [ms, id] = decoded.split('|')
  const createdAt = new Date(Number(ms))
  if (!id || !idPattern.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new ApiError('bad_request', 'Invalid cursor: pass back nextCursor as it was given')
  }
  return { createdAt, id }
}

export function getRoom(db: ReadDb, roomId: string) {
  return db
    .select()
    .from(rooms)
    .where(eq(rooms.id, roomId))
    .limit(1)
    .then((r) => r[0] ?? null)
}

/** Public rooms, oldest first; the cursor is the last room's id (ULIDs sort by creation). */
export async function listPublicRooms(
  db: ReadDb,
  options: { cursor?: string | null; limit: number },
): Promise<{ items: Array<typeof rooms.$inferSelect>; nextCursor: string | null }> {
  if (options.cursor && !idPattern.test(options.cursor)) {
    throw new ApiError('bad_request', 'Invalid cursor: pass back nextCursor as it was given')
  }
  const rows = await db
    .select()
    .from(rooms)
    .where(
      and(eq(rooms.isPrivate, false), options.cursor ? gt(rooms.id, options.cursor) : undefined),
    )
    .orderBy(asc(rooms.id))
    .limit(options.limit + 1)
  const items = rows.slice(0, options.limit)
  return {
    items,
    nextCursor: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null,
  }
}

/**
 * Whether `userId` may read and post in `roomId`: public rooms admit anyone signed in;
 * private ones their members (`member` is only looked up for private rooms). Rooms never
 * change once created, so a caller may pass the room record it already holds.
 */
export async function roomAccess(
  db: ReadDb,
  roomId: string,
  userId: string,
  known?: typeof rooms.$inferSelect,
): Promise<{ room: typeof rooms.$inferSelect | null; member: boolean; allowed: boolean }> {
  const room = known ?? (await getRoom(db, roomId))
  if (!room) return { room: null, member: false, allowed: false }
  const [m] =
    userId && room.isPrivate
      ? await db
          .select({ userId: roomMembers.userId })
          .from(roomMembers)
          .where(and(eq(roomMembers.roomId, roomId), eq(roomMembers.userId, userId)))
          .limit(1)
      : []
  const member = !!m
  return { room, member, allowed: !!userId && (member || !room.isPrivate) }
}

/**
 * A page of a room's history by seq, oldest first: with `after`, the oldest `limit` after
 * it (below `before` if given); with only `before`, the newest `limit` below it; with
 * neither, the newest page. Scoped by room_id, the shard key.
 */
export async function listMessages(
  db: ReadDb,
  roomId: string,
  options: { before?: number; after?: number; limit: number },
) {
  const conditions = [eq(messages.roomId, roomId)]
  if (options.after !== undefined) conditions.push(gt(messages.seq, options.after))
  if (options.before !== undefined) conditions.push(lt(messages.seq, options.before))
  const forward = options.after !== undefined
  const rows = await db
    .select()
    .from(messages)
    .where(and(...conditions))
    .orderBy(forward ? asc(messages.seq) : desc(messages.seq))
    .limit(options.limit)
  return forward ? rows : rows.reverse()
}

/** How far retention has taken a room's history (0, 0 when it never touched the room). */
export async function roomRetentionOf(db: ReadDb, roomId: string) {
  const [row] = await db
    .select({
      archivedThrough: roomRetention.archivedThrough,
      deletedThrough: roomRetention.deletedThrough,
    })
    .from(roomRetention)
    .where(eq(roomRetention.roomId, roomId))
    .limit(1)
  return {
    archivedThrough: Number(row?.archivedThrough ?? 0),
    deletedThrough: Number(row?.deletedThrough ?? 0),
  }
}
