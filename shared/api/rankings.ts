import { createRoute, z } from '@hono/zod-openapi'
import { rankingPeriods } from '../rankings'
import { UserId } from './fields'
import { bearer, commonErrors, error, json, notModified } from './openapi'

const RankingPeriodSchema = z.enum(rankingPeriods)

const RankedEntry = z.object({
  rank: z.number().int().openapi({ description: 'Equal scores share a rank; the next one skips' }),
  id: z.string(),
  name: z.string(),
  messages: z.number().int(),
})

export const RankingSchema = z
  .object({
    kind: z.enum(['rooms', 'users']),
    period: RankingPeriodSchema,
    entries: z.array(RankedEntry),
    me: z
      .object({ rank: z.number().int().nullable(), messages: z.number().int() })
      .optional()
      .openapi({
        description: 'With around=me: the caller (rank null before their first message)',
      }),
  })
  .openapi('Ranking')
export type Ranking = z.infer<typeof RankingSchema>

export const UserStatsSchema = z
  .object({
    userId: UserId,
    messages: z.number().int().openapi({ description: 'All time' }),
    rank: z.number().int().nullable().openapi({ description: 'All-time rank among users' }),
    rooms: z.number().int().openapi({
      description:
        'Rooms the user is a member of (public ones; all of them for the user or an admin)',
    }),
  })
  .openapi('UserStats')
export type UserStats = z.infer<typeof UserStatsSchema>

const rankingQuery = z.object({
  period: RankingPeriodSchema.default('day'),
  limit: z.coerce.number().int().min(1).max(100).default(10),
})

const rankingRoute = (kind: 'rooms' | 'users', path: string, around: boolean) =>
  createRoute({
    method: 'get',
    path,
    tags: ['rankings'],
    security: bearer,
    description:
      `Top ${kind} by messages over the UTC day, the ISO week or all time, kept in Redis sorted ` +
      'sets at ingest (a batch shipped twice counts once). Equal scores share a rank. ' +
      (kind === 'rooms' ? 'Public rooms only. ' : '') +
      (around
        ? 'around=me: the caller with `limit` neighbours around them instead of the top. '
        : '') +
      'Cached at the edge (RANKINGS_TTL_SECONDS).',
    request: {
      query: around ? rankingQuery.extend({ around: z.literal('me').optional() }) : rankingQuery,
    },
    responses: {
      200: json(RankingSchema, 'The ranking (x-cache: HIT | MISS | STALE | BYPASS)'),
      304: notModified,
      401: error('Not signed in'),
      ...commonErrors,
    },
  })

export const rankingRoutes = {
  roomRanking: rankingRoute('rooms', '/v1/rankings/rooms', false),
  userRanking: rankingRoute('users', '/v1/rankings/users', true),
  userStats: createRoute({
    method: 'get',
    path: '/v1/users/{id}/stats',
    tags: ['rankings'],
    security: bearer,
    description:
      "A user's all-time messages and rank (from the rankings) and rooms joined. Cached " +
      '(RANKINGS_TTL_SECONDS).',
    request: { params: z.object({ id: UserId }) },
    responses: {
      200: json(UserStatsSchema, 'The stats'),
      304: notModified,
      401: error('Not signed in'),
      404: error('No such user'),
      ...commonErrors,
    },
  }),
}
