import { OpenAPIHono } from '@hono/zod-openapi'
import { eq } from 'drizzle-orm'
import { routes, toProfile } from '../../shared/api'
import { cacheScopes as scopes } from '../../shared/cache-keys'
import { ApiError } from '../../shared/errors'
import { newId } from '../../shared/ids'
import { profiles, users } from '../../shared/schema'
import { checkSignIn, hashPassword, needsRehash, type ScryptParams } from '../auth/passwords'
import type { TokenIssuer } from '../auth/tokens'
import type { Database } from '../db'
import type { OriginEnv } from '../env'
import type { CacheInvalidator } from '../invalidation'
import { isDuplicateKey, requireUser, validationHook } from './support'

export interface AccountDeps {
  db: Database['db']
  tokens: TokenIssuer
  invalidator: CacheInvalidator
  scrypt: ScryptParams
}

/** Sign-up, sign-in, token refresh and sign-out, and the private `GET /v1/me`. */
export function accountRoutes({ db, tokens, invalidator, scrypt }: AccountDeps) {
  const app = new OpenAPIHono<OriginEnv>({ defaultHook: validationHook })

  async function profileOf(userId: string) {
    const [row] = await db.select().from(profiles).where(eq(profiles.userId, userId)).limit(1)
    if (!row) throw new ApiError('not_found', 'Profile not found')
    return toProfile(row)
  }

  app.openapi(routes.register, async (c) => {
    const { email, password, displayName } = c.req.valid('json')
    const passwordHash = await hashPassword(password, scrypt)
    const id = newId()
    const now = new Date()
    try {
      // A new profile changes the list.
      await invalidator.around(db, [scopes.profileList], async (tx) => {
        await tx.insert(users).values({ id, email, passwordHash, createdAt: now })
        await tx
          .insert(profiles)
          .values({ userId: id, displayName, bio: '', createdAt: now, updatedAt: now })
      })
    } catch (err) {
      if (isDuplicateKey(err)) throw new ApiError('conflict', 'That email is already registered')
      throw err
    }
    c.var.log.info({ userId: id }, 'account registered')
    const issued = await tokens.issue(db, id)
    return c.json({ user: { id, email }, profile: await profileOf(id), tokens: issued }, 201)
  })

  app.openapi(routes.login, async (c) => {
    const { email, password } = c.req.valid('json')
    const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1)
    // Checked (or its cost burnt) before `user` decides anything: one timing for every failure.
    if (!(await checkSignIn(password, user?.passwordHash, scrypt)) || !user) {
      throw new ApiError('unauthorized', 'Wrong email or password')
    }
    // The cost was raised since this hash was made: the password is at hand, so upgrade it.
    if (needsRehash(user.passwordHash, scrypt)) {
      const passwordHash = await hashPassword(password, scrypt)
      await db.update(users).set({ passwordHash }).where(eq(users.id, user.id))
    }
    const issued = await tokens.issue(db, user.id)
    return c.json(
      {
        user: { id: user.id, email: user.email },
        profile: await profileOf(user.id),
        tokens: issued,
      },
      200,
    )
  })

  app.openapi(routes.refresh, async (c) =>
    c.json(await tokens.rotate(db, c.req.valid('json').refreshToken), 200),
  )

  app.openapi(routes.logout, async (c) => {
    await tokens.revoke(db, c.req.valid('json').refreshToken)
    return c.body(null, 204)
  })

  app.openapi(routes.me, async (c) => {
    const userId = requireUser(c)
    const [user] = await db.select().from(users).where(eq(users.id, userId)).limit(1)
    if (!user) throw new ApiError('unauthorized', 'This account no longer exists')
    c.header('Cache-Control', 'private, no-store')
    return c.json({ id: user.id, email: user.email, profile: await profileOf(user.id) }, 200)
  })

  return app
}
