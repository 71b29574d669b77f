import { Hono } from 'hono'
import { routes } from '../../shared/api'
import { cacheKeys, cacheScopes } from '../../shared/cache-keys'
import { dashboardMetrics } from '../../shared/dashboard-queries'
import { cachedRead } from '../cache'
import { clients } from '../clients'
import type { AppEnv } from '../env'
import { requireAdmin, requireAuth } from '../middleware/auth'
import { rateLimit } from '../middleware/ratelimit'
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
    const config = c.var.config
    return cachedRead(c, {
      scope: cacheScopes.dashboard,
      key: cacheKeys.dashboardMetrics(period),
      ttlSeconds: config.DASHBOARD_METRICS_TTL_SECONDS,
      notFound: 'No metrics',
      load: () => dashboardMetrics(clients(config).readDb, period),
    })
  },
)
