import { Hono } from 'hono'
import { type Ranking, routes, type UserStats } from '../../shared/api'
import { cacheKeys, cacheScopes } from '../../shared/cache-keys'
import { namedRanks, roomsJoined, userExists } from '../../shared/dashboard-queries'
import {
  type RankingKind,
  type RankingPeriod,
  rankingKey,
  scoredPairs,
} from '../../shared/rankings'
import { cachedRead } from '../cache'
import { clients } from '../clients'
import type { AppEnv } from '../env'
import { requireAuth } from '../middleware/auth'
import { rateLimit } from '../middleware/ratelimit'
import { parse } from '../validate'

/**
 * A ranking as served: the top `limit`, or (around `me`) the caller's place with `limit`
 * neighbours on each side — its first entry's rank from how many score higher.
 */
async function loadRanking(
  config: AppEnv['Variables']['config'],
  kind: RankingKind,
  period: RankingPeriod,
  limit: number,
  me?: string,
): Promise<Ranking> {
  const redis = clients(config).redis
  const key = rankingKey(kind, period, Date.now())
  if (!me) {
    const top = scoredPairs(await redis.zrange(key, 0, limit - 1, { rev: true, withScores: true }))
    return { kind, period, entries: await namedRanks(clients(config).readDb, kind, top, 0) }
  }
  const [place, score] = await redis.pipeline().zrevrank(key, me).zscore(key, me).exec()
  if (place === null || score === null) {
    return { kind, period, entries: [], me: { rank: null, messages: 0 } }
  }
  const start = Math.max(0, Number(place) - limit)
  const run = scoredPairs(
    await redis.zrange(key, start, Number(place) + limit, { rev: true, withScores: true }),
  )
  const first = run[0]!
  const firstRank = 1 + (await redis.zcount(key, `(${first.messages}`, '+inf'))
  const entries = await namedRanks(clients(config).readDb, kind, run, start, firstRank)
  const mine = entries.find((e) => e.id === me)!
  return { kind, period, entries, me: { rank: mine.rank, messages: mine.messages } }
}

/**
 * Rankings (seed 003) and user stats, for everyone signed in, cached at the edge like any
 * read (RANKINGS_TTL_SECONDS): from the origin's sorted sets in Upstash, names from the
 * read-only database.
 */
export const rankingReads = new Hono<AppEnv>()

for (const kind of ['rooms', 'users'] as const) {
  const route = kind === 'rooms' ? routes.roomRanking : routes.userRanking
  rankingReads.get(route.path, requireAuth(), rateLimit({ withRead: true }), async (c) => {
    const query = parse(route.request.query, c.req.query()) as {
      period: RankingPeriod
      limit: number
      around?: 'me'
    }
    const me = query.around === 'me' ? c.get('userId') : undefined
    const config = c.get('config')
    return cachedRead(c, {
      scope: cacheScopes.dashboard,
      key: cacheKeys.rankingView(kind, query.period, query.limit, me ?? ''),
      ttlSeconds: config.RANKINGS_TTL_SECONDS,
      notFound: 'No ranking',
      load: () => loadRanking(config, kind, query.period, query.limit, me),
    })
  })
}

rankingReads.get('/v1/users/:id/stats', requireAuth(), rateLimit({ withRead: true }), async (c) => {
  const { id } = parse(routes.userStats.request.params, c.req.param())
  const config = c.get('config')
  // The user and admins see every room counted; others only the public ones (one entry each).
  const all = c.get('userId') === id || c.get('userRole') === 'admin'
  return cachedRead(c, {
    scope: cacheScopes.dashboard,
    key: cacheKeys.userStats(id, all ? 'all' : 'public'),
    ttlSeconds: config.RANKINGS_TTL_SECONDS,
    notFound: 'No such user',
    load: async (): Promise<UserStats | null> => {
      const db = clients(config).readDb
      if (!(await userExists(db, id))) return null
      const redis = clients(config).redis
      const key = rankingKey('users', 'all', Date.now())
      const [score, rooms] = await Promise.all([redis.zscore(key, id), roomsJoined(db, id, all)])
      const messages = Number(score ?? 0)
      const rank = score === null ? null : 1 + (await redis.zcount(key, `(${messages}`, '+inf'))
      return { userId: id, messages, rank, rooms }
    },
  })
})
