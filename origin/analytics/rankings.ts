import { and, eq, gte, inArray, sql } from 'drizzle-orm'
import type { Redis } from 'ioredis'
import type { StoredMessage } from '../../shared/message'
import {
  type RankingKind,
  type RankingPeriod,
  rankingKeepSeconds,
  rankingKey,
  rankingPeriodStart,
  rankingPeriods,
} from '../../shared/rankings'
import { roomHourAuthors, roomHourStats, rooms } from '../../shared/schema'
import type { Database } from '../db'
import { replies } from '../redis-replies'

type Db = Database['primary']

/** The rooms among `ids` that are public: only those are ranked (a private room stays unseen). */
async function publicRooms(db: Db, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set()
  const rows = await db
    .select({ id: rooms.id })
    .from(rooms)
    .where(and(inArray(rooms.id, ids), eq(rooms.isPrivate, false)))
  return new Set(rows.map((r) => r.id))
}

/**
 * Adds messages stored for the first time to the rankings' sorted sets, after their
 * transaction committed: only new messages come here (a batch shipped again brings none),
 * so nothing counts twice. If Redis fails here the counts are short until
 * `npm run rankings:rebuild` recounts them from the rollups — said in the log.
 */
export async function addToRankings(
  db: Db,
  redis: Redis,
  fresh: Array<{ roomId: string; message: StoredMessage }>,
): Promise<void> {
  if (!fresh.length) return
  const open = await publicRooms(db, [...new Set(fresh.map((f) => f.roomId))])
  const increments = new Map<string, { period: RankingPeriod; members: Map<string, number> }>()
  const add = (kind: RankingKind, period: RankingPeriod, at: number, member: string) => {
    const key = rankingKey(kind, period, at)
    const set = increments.get(key) ?? { period, members: new Map<string, number>() }
    set.members.set(member, (set.members.get(member) ?? 0) + 1)
    increments.set(key, set)
  }
  for (const { roomId, message } of fresh) {
    for (const period of rankingPeriods) {
      if (open.has(roomId)) add('rooms', period, message.createdAt, roomId)
      add('users', period, message.createdAt, message.author)
    }
  }
  const pipeline = redis.pipeline()
  for (const [key, { period, members }] of increments) {
    for (const [member, n] of members) pipeline.zincrby(key, n, member)
    const keep = rankingKeepSeconds[period]
    if (keep) pipeline.expire(key, keep)
  }
  await replies(pipeline)
}

/** One ranking recounted from the rollups: member → messages. */
async function recount(db: Db, kind: RankingKind, since: Date | null) {
  if (kind === 'rooms') {
    const rows = await db
      .select({ id: roomHourStats.roomId, n: sql<string>`sum(${roomHourStats.messages})` })
      .from(roomHourStats)
      .where(since ? gte(roomHourStats.hour, since) : undefined)
      .groupBy(roomHourStats.roomId)
    const open = await publicRooms(
      db,
      rows.map((r) => r.id),
    )
    return rows.filter((r) => open.has(r.id)).map((r) => [r.id, Number(r.n)] as const)
  }
  const rows = await db
    .select({ id: roomHourAuthors.authorId, n: sql<string>`sum(${roomHourAuthors.messages})` })
    .from(roomHourAuthors)
    .where(since ? gte(roomHourAuthors.hour, since) : undefined)
    .groupBy(roomHourAuthors.authorId)
  return rows.map((r) => [r.id, Number(r.n)] as const)
}

/**
 * Rebuilds the current day's, week's and all-time rankings from the rollups (after a Redis
 * loss): each into a fresh key, then renamed over the live one in one step. Messages
 * ingested while it runs may be missed or counted twice until the next rebuild — run it
 * when Redis came back empty, not routinely.
 */
export async function rebuildRankings(db: Db, redis: Redis, now = Date.now()) {
  const counts: Record<string, number> = {}
  for (const kind of ['rooms', 'users'] as const) {
    for (const period of rankingPeriods) {
      const start = rankingPeriodStart(period, now)
      const members = await recount(db, kind, start === null ? null : new Date(start))
      const key = rankingKey(kind, period, now)
      const building = `${key}:rebuild`
      const pipeline = redis.pipeline().del(building)
      for (let i = 0; i < members.length; i += 1000) {
        pipeline.zadd(building, ...members.slice(i, i + 1000).flatMap(([id, n]) => [n, id]))
      }
      if (members.length) pipeline.rename(building, key)
      else pipeline.del(key)
      const keep = rankingKeepSeconds[period]
      if (keep && members.length) pipeline.expire(key, keep)
      await replies(pipeline)
      counts[`${kind}:${period}`] = members.length
    }
  }
  return counts
}
