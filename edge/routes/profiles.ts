import { Hono } from 'hono'
import { routes, toProfile } from '../../shared/api'
import { cacheKeys, cacheScopes } from '../../shared/cache-keys'
import { getProfile, listProfiles } from '../../shared/queries'
import { cachedRead } from '../cache'
import { clients } from '../clients'
import type { AppEnv } from '../env'
import { rateLimit } from '../middleware/ratelimit'
import { parse } from '../validate'

/** Profile reads, answered at the edge from Upstash or, on a miss, the read-only database. */
export const profileReads = new Hono<AppEnv>()

profileReads.get('/v1/profiles', rateLimit({ withRead: true }), async (c) => {
  const query = parse(routes.listProfiles.request.query, c.req.query())
  const config = c.get('config')
  return cachedRead(c, {
    scope: cacheScopes.profileList,
    key: cacheKeys.profileList(query.cursor ?? '', query.limit),
    ttlSeconds: config.CACHE_TTL_PROFILE_LIST_SECONDS,
    notFound: 'No such page',
    load: async () => {
      const page = await listProfiles(clients(config).readDb, {
        cursor: query.cursor,
        limit: query.limit,
      })
      return { items: page.items.map(toProfile), nextCursor: page.nextCursor }
    },
  })
})

profileReads.get('/v1/profiles/:id', rateLimit({ withRead: true }), async (c) => {
  const { id } = parse(routes.getProfile.request.params, c.req.param())
  const config = c.get('config')
  return cachedRead(c, {
    scope: cacheScopes.profile(id),
    key: cacheKeys.profile(id),
    ttlSeconds: config.CACHE_TTL_PROFILE_SECONDS,
    notFound: 'Profile not found',
    load: async () => {
      const row = await getProfile(clients(config).readDb, id)
      return row ? toProfile(row) : null
    },
  })
})
