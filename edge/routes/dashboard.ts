import { Hono } from 'hono'
import { routes } from '../../shared/api'
import { cacheKeys, cacheScopes } from '../../shared/cache-keys'
import { dashboardMetrics, recentActivity, roomMessageStats } from '../../shared/dashboard-queries'
import { ApiError } from '../../shared/errors'
import { cachedRead } from '../cache'
import { clients } from '../clients'
import type { AppEnv } from '../env'
import { requireAdmin, requireAuth } from '../middleware/auth'
import { forwardToOrigin } from '../middleware/forward'
import { rateLimit } from '../middleware/ratelimit'
import { requireAccess } from '../rooms/access'
import { parse } from '../validate'

/**
 * The admin dashboards, answered at the edge like every cached read: from Upstash, or on a
 * miss from the read-only database's rollups. Admins only (the role rides in the token).
 */
export const dashboardReads = new Hono<AppEnv>()

dashboardReads.get(
  '/v1/dashboard/metrics',
  requireAuth(),
  requireAdmin(),
  rateLimit({ withRead: true }),
  async (c) => {
    const { period } = parse(routes.dashboardMetrics.request.query, c.req.query())
    const config = c.get('config')
    return cachedRead(c, {
      scope: cacheScopes.dashboard,
      key: cacheKeys.dashboardMetrics(period),
      ttlSeconds: config.DASHBOARD_METRICS_TTL_SECONDS,
      notFound: 'No metrics',
      load: () => dashboardMetrics(clients(config).readDb, period),
    })
  },
)

dashboardReads.get(
  '/v1/dashboard/messages/stats',
  requireAuth(),
  rateLimit({ withRead: true }),
  async (c) => {
    const { roomId, period } = parse(routes.roomMessageStats.request.query, c.req.query())
    // The room's rules first (a private room is 404 to non-members), then its owner or an admin.
    const { room } = await requireAccess(c, roomId)
    if (c.get('userRole') !== 'admin' && room!.ownerId !== c.get('userId')) {
      throw new ApiError('forbidden', "Only the room's owner or an admin sees its statistics")
    }
    const config = c.get('config')
    return cachedRead(c, {
      scope: cacheScopes.dashboard,
      key: cacheKeys.roomMessageStats(roomId, period),
      ttlSeconds: config.DASHBOARD_STATS_TTL_SECONDS,
      notFound: 'No statistics',
      load: () => roomMessageStats(clients(config).readDb, roomId, period),
    })
  },
)

dashboardReads.get(
  '/v1/dashboard/recent-activity',
  requireAuth(),
  requireAdmin(),
  rateLimit({ withRead: true }),
  async (c) => {
    const { limit, cursor } = parse(routes.recentActivity.request.query, c.req.query())
    const config = c.get('config')
    return cachedRead(c, {
      scope: cacheScopes.dashboard,
      key: cacheKeys.recentActivity(limit, cursor ?? ''),
      ttlSeconds: config.DASHBOARD_ACTIVITY_TTL_SECONDS,
      notFound: 'No activity',
      load: () => recentActivity(clients(config).readDb, limit, cursor),
    })
  },
)

// Streamed from the origin (which keeps each export for EXPORT_TTL_SECONDS): a file of a
// million rows is no cache entry.
dashboardReads.get(
  '/v1/dashboard/export',
  requireAuth(),
  requireAdmin(),
  rateLimit(),
  forwardToOrigin({ timeoutMs: (config) => config.EXPORT_TIMEOUT_MS }),
)

// Never cached: it is how the last minutes went.
dashboardReads.get(
  '/v1/dashboard/performance',
  requireAuth(),
  requireAdmin(),
  rateLimit(),
  forwardToOrigin(),
)
