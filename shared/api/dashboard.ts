import { createRoute, z } from '@hono/zod-openapi'
import { timestamp } from './fields'
import { bearer, commonErrors, error, json, notModified } from './openapi'

/** A dashboard's period, and the bucket it is cut into (hours up to a day, days beyond). */
export const periods = {
  '1h': { ms: 3_600_000, bucket: 'hour' },
  '24h': { ms: 86_400_000, bucket: 'hour' },
  '7d': { ms: 7 * 86_400_000, bucket: 'day' },
  '30d': { ms: 30 * 86_400_000, bucket: 'day' },
} as const
export type Period = keyof typeof periods

const Counts = z.object({
  messages: z.number().int(),
  activeRooms: z.number().int(),
  activeUsers: z.number().int(),
  newAccounts: z.number().int(),
})

export const DashboardMetricsSchema = z
  .object({
    period: z.enum(['1h', '24h', '7d', '30d']),
    bucket: z.enum(['hour', 'day']),
    from: timestamp(),
    to: timestamp(),
    totals: Counts,
    buckets: z.array(Counts.extend({ start: timestamp() })),
  })
  .openapi('DashboardMetrics')
export type DashboardMetrics = z.infer<typeof DashboardMetricsSchema>

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
    request: { query: z.object({ period: z.enum(['1h', '24h', '7d', '30d']).default('24h') }) },
    responses: {
      200: json(DashboardMetricsSchema, 'The counts (x-cache: HIT | MISS | STALE | BYPASS)'),
      304: notModified,
      403: error('Not an admin'),
      ...commonErrors,
    },
  }),
}
