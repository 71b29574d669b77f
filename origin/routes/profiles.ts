import { OpenAPIHono } from '@hono/zod-openapi'
import { eq } from 'drizzle-orm'
import { routes, toProfile } from '../../shared/api'
import { cacheScopes as scopes } from '../../shared/cache-keys'
import { ApiError } from '../../shared/errors'
import { getProfile } from '../../shared/queries'
import { profiles } from '../../shared/schema'
import type { Database } from '../db'
import type { OriginEnv } from '../env'
import type { CacheInvalidator } from '../invalidation'
import { requireUser, validationHook } from './support'

/**
 * Profile writes. Reads are normally answered by the edge (cache, then the database); the
 * origin's own read is for signed internal callers and is the "origin directly" baseline.
 */
export function profileRoutes(deps: {
  db: Database['db']
  read: Database['db']
  invalidator: CacheInvalidator
}) {
  const { db, read, invalidator } = deps
  const app = new OpenAPIHono<OriginEnv>({ defaultHook: validationHook })

  app.openapi(routes.getProfile, async (c) => {
    const { id } = c.req.valid('param')
    const row = await getProfile(read, id)
    if (!row) throw new ApiError('not_found', 'Profile not found')
    return c.json(toProfile(row), 200)
  })

  app.openapi(routes.patchProfile, async (c) => {
    const userId = requireUser(c)
    const { id } = c.req.valid('param')
    const patch = c.req.valid('json')
    const [existing] = await db
      .select({ userId: profiles.userId })
      .from(profiles)
      .where(eq(profiles.userId, id))
      .limit(1)
    if (!existing) throw new ApiError('not_found', 'Profile not found')
    if (id !== userId) throw new ApiError('forbidden', 'You can only change your own profile')
    const invalidated = [scopes.profile(id), scopes.profileList]
    await invalidator.around(db, invalidated, (tx) =>
      tx
        .update(profiles)
        .set({ ...patch, updatedAt: new Date() })
        .where(eq(profiles.userId, id)),
    )
    const [row] = await db.select().from(profiles).where(eq(profiles.userId, id)).limit(1)
    return c.json(toProfile(row!), 200)
  })

  return app
}
