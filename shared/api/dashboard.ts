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
export const PeriodSchema = z.enum(['1h', '24h', '7d', '30d'] satisfies Period[])

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

export const RecentActivitySchema = z
  .object({
    items: z.array(
      z.object({
        hour: timestamp(),
        roomId: RoomId,
        roomName: z.string(),
        messages: z.number().int(),
        authors: z.number().int(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi('RecentActivity')
export type RecentActivity = z.infer<typeof RecentActivitySchema>

/** `hour-ms.room-id` of the last item a page showed. */
export const ActivityCursor = z
  .string()
  .regex(/^\d{1,15}\.[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a cursor from a previous page')

export const PerformanceSchema = z
  .object({
    period: z.enum(['1h', '24h']),
    from: timestamp(),
    to: timestamp(),
    routes: z.array(
      z.object({
        route: z.string().openapi({ example: 'POST /v1/rooms' }),
        requests: z.number().int(),
        clientErrors: z.number().int(),
        serverErrors: z.number().int(),
        errorRate: z.number().openapi({ description: 'Server errors (5xx) per request' }),
        p50Ms: z.number(),
        p95Ms: z.number(),
        p99Ms: z.number(),
      }),
    ),
  })
  .openapi('Performance')
export type Performance = z.infer<typeof PerformanceSchema>

const adminOnly = { 403: error('Not an admin') }

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
  recentActivity: createRoute({
    method: 'get',
    path: '/v1/dashboard/recent-activity',
    tags: ['dashboard'],
    security: bearer,
    description:
      'Admins only. The latest activity, newest first: per room and hour, its messages and ' +
      'distinct authors (from the rollups). Cached (DASHBOARD_ACTIVITY_TTL_SECONDS), limited per ' +
      'user (DASHBOARD_ACTIVITY_PER_MINUTE).',
    request: {
      query: z.object({
        limit: z.coerce.number().int().min(1).max(100).default(50),
        cursor: ActivityCursor.optional(),
      }),
    },
    responses: {
      200: json(RecentActivitySchema, 'A page (x-cache: HIT | MISS | STALE | BYPASS)'),
      304: notModified,
      ...adminOnly,
      ...commonErrors,
    },
  }),
  exportReport: createRoute({
    method: 'get',
    path: '/v1/dashboard/export',
    tags: ['dashboard'],
    security: bearer,
    description:
      "Admins only. The period's messages as CSV (created_at, room_id, seq, message_id, " +
      'author_id, body_bytes; no bodies), streamed from the origin with Content-Disposition — ' +
      'memory bounded however many rows. Kept by the origin for EXPORT_TTL_SECONDS (x-cache: ' +
      'HIT after the first); limited per user (DASHBOARD_EXPORT_PER_MINUTE).',
    request: { query: z.object({ format: z.literal('csv'), period: PeriodSchema.default('7d') }) },
    responses: {
      200: {
        description: 'The CSV file',
        content: { 'text/csv': { schema: z.string() } },
      },
      ...adminOnly,
      ...commonErrors,
    },
  }),
  performance: createRoute({
    method: 'get',
    path: '/v1/dashboard/performance',
    tags: ['dashboard'],
    security: bearer,
    description:
      "Admins only. The origin's latency percentiles and error rates per route over the last " +
      'hour or day, from per-minute counts every worker keeps in Redis. Never cached; limited ' +
      'per user (DASHBOARD_PERFORMANCE_PER_MINUTE).',
    request: { query: z.object({ period: z.enum(['1h', '24h']).default('1h') }) },
    responses: {
      200: json(PerformanceSchema, 'Per route, busiest first'),
      ...adminOnly,
      ...commonErrors,
    },
  }),
  dashboardLive: createRoute({
    method: 'get',
    path: '/v1/dashboard/live',
    tags: ['dashboard'],
    description:
      'Admins only. WebSocket, subprotocol `plaza.v1` (the token as `plaza.bearer.<token>`): ' +
      '`{type: "tiles", tiles}` frames — messagesPerMinute, activeRooms, socketsOpen, ' +
      'currentHour, topRooms, topUsers (shared/live.ts) — every tile on subscribe, then at most ' +
      'one update per tile per second. The socket only listens (a frame from it closes it, 1008) ' +
      'and closes when its token expires (4401).',
    responses: {
      101: { description: 'Switching protocols; a non-admin is closed with 4403' },
      426: error('Not a WebSocket upgrade'),
      ...commonErrors,
    },
  }),
}
