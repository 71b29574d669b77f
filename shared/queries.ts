import { and, asc, eq, gt, or } from 'drizzle-orm'
import type {
  MySqlDatabase,
  MySqlQueryResultHKT,
  PreparedQueryHKTBase,
} from 'drizzle-orm/mysql-core'
import { ApiError } from './errors'
import { idPattern } from './ids'
import { profiles } from './schema'

/**
 * Read queries shared by the origin (mysql2) and the edge (PlanetScale HTTP): plain
 * functions of a drizzle db, so a cache miss at the edge runs exactly what the origin would.
 */
// biome-ignore lint/suspicious/noExplicitAny: any drizzle MySQL driver's database fits.
export type ReadDb = MySqlDatabase<MySqlQueryResultHKT, PreparedQueryHKTBase, any>

export function getProfile(db: ReadDb, userId: string) {
  return db
    .select()
    .from(profiles)
    .where(eq(profiles.userId, userId))
    .limit(1)
    .then((rows) => rows[0] ?? null)
}

export interface ProfilePage {
  items: Array<typeof profiles.$inferSelect>
  nextCursor: string | null
}

/** Stable order: by creation time, then id; the cursor is the last row's `createdAt|id`. */
export async function listProfiles(
  db: ReadDb,
  options: { cursor?: string | null; limit: number },
): Promise<ProfilePage> {
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
