import { createRoute, z } from '@hono/zod-openapi'
import { RoomId, timestamp } from './fields'
import { bearer, commonErrors, error, json, notModified } from './openapi'

/** A dashboard's period, and the bucket it is cut into (hours up to a day, days beyond). */
export const periods = {
  '1h': { ms: 3_600_000, bucket: 'hour' },
  '24h': { ms: 86_400_000, bucket: 'hour' },
  '7d': { ms: 7 * 86_400_000, bucket: 'day' },
  '30d': { ms: 30 * 86_400_000, bucket: 'day' },
} as const
export type Period = keyof typeof periods
const PeriodSchema = z.enum(['1h', '24h', '7d', '30d'] satisfies Period[])

const Counts = z.object({
  messages: z.number().int(),
  activeRooms: z.number().int(),
  activeUsers: z.number().int(),
  newAccounts: z.number().int(),
})

export const DashboardMetricsSchema = z
  .object({
    period: PeriodSchema,
    bucket: z.enum(['hour', 'day']),
    from: timestamp(),
    to: timestamp(),
    totals: Counts,
    buckets: z.array(Counts.extend({ start: timestamp() })),
  })
  .openapi('DashboardMetrics')
export type DashboardMetrics = z.infer<typeof DashboardMetricsSchema>

export const RoomMessageStatsSchema = z
  .object({
    roomId: RoomId,
    period: PeriodSchema,
    bucket: z.enum(['hour', 'day']),
    from: timestamp(),
    to: timestamp(),
    totals: z.object({ messages: z.number().int(), authors: z.number().int() }),
    buckets: z.array(
      z.object({ start: timestamp(), messages: z.number().int(), authors: z.number().int() }),
    ),
  })
  .openapi('RoomMessageStats')
export type RoomMessageStats = z.infer<typeof RoomMessageStatsSchema>

export const dashboardRoutes = {
  dashboardMetrics: createRoute({
    method: 'get',
    path: '/v1/dashboard/metrics',
    tags: ['dashboard'],
    security: bearer,
    description:
      'Admins only. Messages, active rooms, active users and new accounts over the period, per hour ' +
      '(1h, 24h) or per UTC day (7d, 30d), from the hourly rollups. Cached (DASHBOARD_METRICS_TTL_SECONDS), ' +
      'limited per user (DASHBOARD_METRICS_PER_MINUTE).',
    request: { query: z.object({ period: PeriodSchema.default('24h') }) },
    responses: {
      200: json(DashboardMetricsSchema, 'The counts (x-cache: HIT | MISS | STALE | BYPASS)'),
      304: notModified,
      403: error('Not an admin'),
      ...commonErrors,
    },
  }),
  roomMessageStats: createRoute({
    method: 'get',
    path: '/v1/dashboard/messages/stats',
    tags: ['dashboard'],
    security: bearer,
    description:
      "A room's messages and distinct authors per hour (1h, 24h) or UTC day (7d, 30d), from its " +
      "rollups. For the room's owner and admins; a private room is 404 to non-members, as everywhere. " +
      'Cached (DASHBOARD_STATS_TTL_SECONDS), limited per user (DASHBOARD_STATS_PER_MINUTE).',
    request: { query: z.object({ roomId: RoomId, period: PeriodSchema.default('7d') }) },
    responses: {
      200: json(RoomMessageStatsSchema, 'The counts (x-cache: HIT | MISS | STALE | BYPASS)'),
      304: notModified,
      403: error("Neither the room's owner nor an admin"),
      404: error('No such room'),
      ...commonErrors,
    },
  }),
}
