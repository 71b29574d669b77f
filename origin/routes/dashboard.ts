import { Readable } from 'node:stream'
import type { z } from '@hono/zod-openapi'
import { eq } from 'drizzle-orm'
import { type Context, Hono } from 'hono'
import type { Redis } from 'ioredis'
import { routes } from '../../shared/api'
import { ApiError, validationError } from '../../shared/errors'
import { users } from '../../shared/schema'
import type { csvExports } from '../analytics/export'
import { readPerformance } from '../analytics/performance'
import type { Database } from '../db'
import type { OriginEnv } from '../env'
import { requireUser } from './support'

const MINUTES = { '1h': 60, '24h': 1_440 } as const

/**
 * The dashboards the edge cannot answer from a cache: the CSV export (streamed, kept on
 * disk) and performance (never cached). The edge already checked the token's role; the
 * origin checks the database's, so a revoked admin is refused here at once, not when their
 * token expires.
 */
export function dashboardRoutes(deps: {
  db: Database['primary']
  redis: Redis
  csvExport: ReturnType<typeof csvExports>
  flushPerformance: () => Promise<void>
}) {
  const app = new Hono<OriginEnv>()

  async function requireAdmin(c: Context<OriginEnv>) {
    const [row] = await deps.db
      .select({ role: users.role })
      .from(users)
      .where(eq(users.id, requireUser(c)))
      .limit(1)
    if (row?.role !== 'admin') throw new ApiError('forbidden', 'Admins only')
  }

  function query<S extends z.ZodType>(schema: S, c: Context): z.infer<S> {
    const parsed = schema.safeParse(c.req.query())
    if (!parsed.success) throw validationError(parsed.error.issues)
    return parsed.data
  }

  app.get('/v1/dashboard/export', async (c) => {
    const { period } = query(routes.exportReport.request.query, c)
    await requireAdmin(c)
    const file = await deps.csvExport(period)
    return new Response(Readable.toWeb(file.body) as ReadableStream, {
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${file.filename}"`,
        'cache-control': 'private, no-store',
        'x-cache': file.cache,
      },
    })
  })

  app.get('/v1/dashboard/performance', async (c) => {
    const { period } = query(routes.performance.request.query, c)
    await requireAdmin(c)
    // This worker's latest minute first, so a request just made is in the figures.
    await deps.flushPerformance()
    const now = Date.now()
    const minutes = MINUTES[period]
    return c.json({
      period,
      from: new Date(now - minutes * 60_000).toISOString(),
      to: new Date(now).toISOString(),
      routes: await readPerformance(deps.redis, minutes, now),
    })
  })
  return app
}
