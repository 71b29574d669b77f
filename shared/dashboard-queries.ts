import { and, desc, eq, gte, inArray, lt, or, type SQL, sql } from 'drizzle-orm'
import {
  type DashboardMetrics,
  type Period,
  periods,
  type RecentActivity,
  type RoomMessageStats,
} from './api/dashboard'
import type { ReadDb } from './queries'
import { rankRun } from './rankings'
import { profiles, roomHourAuthors, roomHourStats, roomMembers, rooms, users } from './schema'

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

/** A DATETIME column cut to its bucket, as text the same on every driver ('YYYY-MM-DD HH:00:00'). */
const bucketOf = (column: unknown, bucket: 'hour' | 'day') =>
  bucket === 'hour'
    ? sql<string>`date_format(${column}, '%Y-%m-%d %H:00:00')`
    : sql<string>`date_format(${column}, '%Y-%m-%d 00:00:00')`

const startOf = (text: string) => Date.parse(`${text.replace(' ', 'T')}Z`)

/** A period as whole buckets ending with the current one: [from, to) in ms. */
export function windowOf(period: Period, now: number) {
  const { ms, bucket } = periods[period]
  const size = bucket === 'hour' ? HOUR_MS : DAY_MS
  const to = Math.floor(now / size) * size + size
  return { bucket, size, from: to - Math.max(ms, size), to }
}

/** What every dashboard answer says of its window. */
const spanOf = (period: Period, bucket: 'hour' | 'day', from: number, to: number) => ({
  period,
  bucket,
  from: new Date(from).toISOString(),
  to: new Date(to).toISOString(),
})

/** One entry per bucket of the period, zeros until the rows fill them. */
function emptyBuckets<T>(from: number, to: number, size: number, zero: (start: string) => T) {
  const buckets = new Map<number, T>()
  for (let t = from; t < to; t += size) buckets.set(t, zero(new Date(t).toISOString()))
  return buckets
}

/** The period's rows, by bucket: rollups, distinct authors, new accounts, and the totals. */
function readPeriod(db: ReadDb, from: number, to: number, bucket: 'hour' | 'day') {
  const range = (column: typeof roomHourStats.hour | typeof roomHourAuthors.hour) =>
    and(gte(column, new Date(from)), lt(column, new Date(to)))
  const statsBucket = bucketOf(roomHourStats.hour, bucket)
  const authorsBucket = bucketOf(roomHourAuthors.hour, bucket)
  const usersBucket = bucketOf(users.createdAt, bucket)
  return Promise.all([
    db
      .select({
        start: statsBucket,
        messages: sql<string>`sum(${roomHourStats.messages})`,
        rooms: sql<string>`count(distinct ${roomHourStats.roomId})`,
      })
      .from(roomHourStats)
      .where(range(roomHourStats.hour))
      .groupBy(statsBucket),
    db
      .select({
        start: authorsBucket,
        users: sql<string>`count(distinct ${roomHourAuthors.authorId})`,
      })
      .from(roomHourAuthors)
      .where(range(roomHourAuthors.hour))
      .groupBy(authorsBucket),
    db
      .select({ start: usersBucket, accounts: sql<string>`count(*)` })
      .from(users)
      .where(and(gte(users.createdAt, new Date(from)), lt(users.createdAt, new Date(to))))
      .groupBy(usersBucket),
    db
      .select({
        rooms: sql<string>`(select count(distinct ${roomHourStats.roomId}) from ${roomHourStats} where ${range(roomHourStats.hour)})`,
        users: sql<string>`(select count(distinct ${roomHourAuthors.authorId}) from ${roomHourAuthors} where ${range(roomHourAuthors.hour)})`,
      })
      .from(sql`(select 1) as one`),
  ])
}

/**
 * The global dashboard from the hourly rollups (never the messages): per bucket, messages,
 * active rooms (with a message), active users (distinct authors) and new accounts. It
 * reads every room's rollups for the period — a scatter over the shards by hour, which is
 * why it is admin-only and cached (docs/DEPLOY.md, sharding).
 */
export async function dashboardMetrics(
  db: ReadDb,
  period: Period,
  now = Date.now(),
): Promise<DashboardMetrics> {
  const { bucket, size, from, to } = windowOf(period, now)
  const [stats, authors, accounts, totals] = await readPeriod(db, from, to, bucket)
  const buckets = emptyBuckets(from, to, size, (start) => ({
    start,
    messages: 0,
    activeRooms: 0,
    activeUsers: 0,
    newAccounts: 0,
  }))
  const at = (text: string) => buckets.get(startOf(text))
  for (const r of stats)
    Object.assign(at(r.start) ?? {}, { messages: Number(r.messages), activeRooms: Number(r.rooms) })
  for (const r of authors) Object.assign(at(r.start) ?? {}, { activeUsers: Number(r.users) })
  for (const r of accounts) Object.assign(at(r.start) ?? {}, { newAccounts: Number(r.accounts) })
  const all = [...buckets.values()]
  return {
    ...spanOf(period, bucket, from, to),
    totals: {
      messages: all.reduce((n, b) => n + b.messages, 0),
      activeRooms: Number(totals[0]?.rooms ?? 0),
      activeUsers: Number(totals[0]?.users ?? 0),
      newAccounts: all.reduce((n, b) => n + b.newAccounts, 0),
    },
    buckets: all,
  }
}

/**
 * One room's messages and distinct authors per bucket, from its rollups: both queries name
 * the room, so they stay on its shard.
 */
export async function roomMessageStats(
  db: ReadDb,
  roomId: string,
  period: Period,
  now = Date.now(),
): Promise<RoomMessageStats> {
  const { bucket, size, from, to } = windowOf(period, now)
  const statsBucket = bucketOf(roomHourStats.hour, bucket)
  const authorsBucket = bucketOf(roomHourAuthors.hour, bucket)
  const inRoom = <T extends typeof roomHourStats | typeof roomHourAuthors>(t: T) =>
    and(eq(t.roomId, roomId), gte(t.hour, new Date(from)), lt(t.hour, new Date(to)))
  const [stats, authors, [total]] = await Promise.all([
    db
      .select({ start: statsBucket, messages: sql<string>`sum(${roomHourStats.messages})` })
      .from(roomHourStats)
      .where(inRoom(roomHourStats))
      .groupBy(statsBucket),
    db
      .select({
        start: authorsBucket,
        authors: sql<string>`count(distinct ${roomHourAuthors.authorId})`,
      })
      .from(roomHourAuthors)
      .where(inRoom(roomHourAuthors))
      .groupBy(authorsBucket),
    db
      .select({ authors: sql<string>`count(distinct ${roomHourAuthors.authorId})` })
      .from(roomHourAuthors)
      .where(inRoom(roomHourAuthors)),
  ])
  const buckets = emptyBuckets(from, to, size, (start) => ({ start, messages: 0, authors: 0 }))
  for (const r of stats)
    Object.assign(buckets.get(startOf(r.start)) ?? {}, { messages: Number(r.messages) })
  for (const r of authors)
    Object.assign(buckets.get(startOf(r.start)) ?? {}, { authors: Number(r.authors) })
  const all = [...buckets.values()]
  return {
    roomId,
    ...spanOf(period, bucket, from, to),
    totals: {
      messages: all.reduce((n, b) => n + b.messages, 0),
      authors: Number(total?.authors ?? 0),
    },
    buckets: all,
  }
}

/** Display names of ranked rooms or users (rooms by id, users by their profile). */
export async function namesOf(
  db: ReadDb,
  kind: 'rooms' | 'users',
  ids: string[],
): Promise<Map<string, string>> {
  if (!ids.length) return new Map()
  const rows =
    kind === 'rooms'
      ? await db
          .select({ id: rooms.id, name: rooms.name })
          .from(rooms)
          .where(inArray(rooms.id, ids))
      : await db
          .select({ id: profiles.userId, name: profiles.displayName })
          .from(profiles)
          .where(inArray(profiles.userId, ids))
  return new Map(rows.map((r) => [r.id, r.name]))
}

/** A run of a ranking, ranked (see `rankRun`) and named. */
export async function namedRanks(
  db: ReadDb,
  kind: 'rooms' | 'users',
  run: Array<{ id: string; messages: number }>,
  start: number,
  firstRank?: number,
) {
  const names = await namesOf(
    db,
    kind,
    run.map((e) => e.id),
  )
  return rankRun(run, start, firstRank).map((e) => ({ ...e, name: names.get(e.id) ?? '' }))
}

/**
 * Rooms a user is a member of: every one when `all` (the user, or an admin), otherwise only
 * public ones — a private room's membership is not told to others. Two keyed reads (the
 * user's memberships, then those rooms by id), no join across shards.
 */
export async function roomsJoined(db: ReadDb, userId: string, all: boolean): Promise<number> {
  const memberships = await db
    .select({ roomId: roomMembers.roomId })
    .from(roomMembers)
    .where(eq(roomMembers.userId, userId))
  if (all || !memberships.length) return memberships.length
  const [row] = await db
    .select({ n: sql<string>`count(*)` })
    .from(rooms)
    .where(
      and(
        inArray(
          rooms.id,
          memberships.map((m) => m.roomId),
        ),
        eq(rooms.isPrivate, false),
      ),
    )
  return Number(row?.n ?? 0)
}

/** Whether a user exists (their profile: every account has one). */
export async function userExists(db: ReadDb, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: profiles.userId })
    .from(profiles)
    .where(eq(profiles.userId, userId))
    .limit(1)
  return !!row
}

/**
 * The latest activity, newest first: each room's hours with messages, from the rollups (a
 * scatter over the shards by hour, like the global metrics: admins only, cached). The
 * cursor is the last item's hour and room, so pages never overlap while new hours arrive.
 */
export async function recentActivity(
  db: ReadDb,
  limit: number,
  cursor?: string,
): Promise<RecentActivity> {
  const hourText = bucketOf(roomHourStats.hour, 'hour')
  let after: SQL | undefined
  if (cursor) {
    const [ms, roomId] = cursor.split('.') as [string, string]
    const hour = new Date(Number(ms))
    after = or(
      lt(roomHourStats.hour, hour),
      and(eq(roomHourStats.hour, hour), lt(roomHourStats.roomId, roomId)),
    )
  }
  const rows = await db
    .select({
      hour: hourText,
      roomId: roomHourStats.roomId,
      messages: roomHourStats.messages,
      authors: roomHourStats.authors,
    })
    .from(roomHourStats)
    .where(after)
    .orderBy(desc(roomHourStats.hour), desc(roomHourStats.roomId))
    .limit(limit + 1)
  const page = rows.slice(0, limit)
  const names = await namesOf(db, 'rooms', [...new Set(page.map((r) => r.roomId))])
  const last = page.at(-1)
  return {
    items: page.map((r) => ({
      hour: new Date(startOf(r.hour)).toISOString(),
      roomId: r.roomId,
      roomName: names.get(r.roomId) ?? '',
      messages: Number(r.messages),
      authors: Number(r.authors),
    })),
    nextCursor: rows.length > limit && last ? `${startOf(last.hour)}.${last.roomId}` : null,
  }
}
