import { createRoute, z } from '@hono/zod-openapi'
import { Email, Password, text, UserId } from './fields'
import { bearer, commonErrors, error, json, jsonBody } from './openapi'
import { ProfileSchema } from './profiles'

export const RegisterBody = z
  .object({ email: Email, password: Password, displayName: text(64).pipe(z.string().min(1)) })
  .strict()
  .openapi('RegisterBody')
export const LoginBody = z
  .object({ email: Email, password: z.string().min(1).max(256) })
  .strict()
  .openapi('LoginBody')
export const RefreshBody = z
  .object({ refreshToken: z.string().min(20).max(200) })
  .strict()
  .openapi('RefreshBody')

export const TokensSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string(),
    expiresIn: z.number().int().openapi({ description: 'seconds' }),
    refreshToken: z.string(),
    refreshExpiresIn: z.number().int(),
  })
  .openapi('Tokens')
export type Tokens = z.infer<typeof TokensSchema>

export const SessionSchema = z
  .object({
    user: z.object({ id: UserId, email: z.string() }),
    profile: ProfileSchema,
    tokens: TokensSchema,
  })
  .openapi('Session')
export type Session = z.infer<typeof SessionSchema>

export const MeSchema = z
  .object({ id: UserId, email: z.string(), profile: ProfileSchema })
  .openapi('Me')
export type Me = z.infer<typeof MeSchema>

export const accountRoutes = {
  register: createRoute({
    method: 'post',
    path: '/v1/auth/register',
    tags: ['auth'],
    request: { body: jsonBody(RegisterBody) },
    responses: {
      201: json(SessionSchema, 'Account created'),
      409: error('Email already registered'),
      ...commonErrors,
    },
  }),
  login: createRoute({
    method: 'post',
    path: '/v1/auth/login',
    tags: ['auth'],
    request: { body: jsonBody(LoginBody) },
    responses: {
      200: json(SessionSchema, 'Signed in'),
      401: error('Wrong email or password'),
      ...commonErrors,
    },
  }),
  refresh: createRoute({
    method: 'post',
    path: '/v1/auth/refresh',
    tags: ['auth'],
    request: { body: jsonBody(RefreshBody) },
    responses: {
      200: json(TokensSchema, 'New token pair; the old refresh token is spent'),
      401: error('Unknown, expired or reused refresh token (reuse revokes the whole family)'),
      ...commonErrors,
    },
  }),
  logout: createRoute({
    method: 'post',
    path: '/v1/auth/logout',
    tags: ['auth'],
    request: { body: jsonBody(RefreshBody) },
    responses: {
      204: { description: 'Signed out: the refresh token family is revoked' },
      ...commonErrors,
    },
  }),
  me: createRoute({
    method: 'get',
    path: '/v1/me',
    tags: ['auth'],
    security: bearer,
    responses: {
      200: json(MeSchema, 'The signed-in user; never cached'),
      401: error('No valid access token'),
    },
  }),
} as const
