import { createRoute, z } from '@hono/zod-openapi'
import { idPattern } from './ids'

/*
 * The v1 HTTP surface as zod schemas and OpenAPI routes: the origin validates with them,
 * the edge serves the document built from them. One definition, both runtimes.
 */

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'bad_request' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error')

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorSchema } },
})
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})
const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

const commonErrors = {
  400: error('Malformed request (not JSON, bad query)'),
  413: error('Body larger than the limit'),
  415: error('Body is not application/json'),
  422: error('Body fails validation; details lists each field'),
  429: error('Rate limited; see Retry-After and RateLimit-* headers'),
  503: error('A dependency is down; retry after Retry-After'),
}

/** Text a person typed: trimmed, no control characters. */
const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters')

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email())
  .openapi({ example: 'ada@example.com' })
export const Password = z.string().min(10, 'must be at least 10 characters').max(256)
export const UserId = z
  .string()
  .regex(idPattern, 'must be a ULID')
  .openapi({ example: '01JD3Q6Z8Y0000000000000000' })

export const ProfileSchema = z
  .object({
    id: UserId,
    displayName: z.string(),
    bio: z.string(),
    avatarUrl: z.string().nullable(),
    location: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    updatedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Profile')
export type ProfileDto = z.infer<typeof ProfileSchema>

export const ProfilePageSchema = z
  .object({ items: z.array(ProfileSchema), nextCursor: z.string().nullable() })
  .openapi('ProfilePage')

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

export const ProfilePatch = z
  .object({
    displayName: text(64).pipe(z.string().min(1)).optional(),
    bio: text(500).optional(),
    avatarUrl: z
      .url({ protocol: /^https$/, error: 'must be an https URL' })
      .max(2048)
      .nullable()
      .optional(),
    location: text(100).nullable().optional(),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, 'at least one field is required')
  .openapi('ProfilePatch')

export const TokensSchema = z
  .object({
    tokenType: z.literal('Bearer'),
    accessToken: z.string(),
    expiresIn: z.number().int().openapi({ description: 'seconds' }),
    refreshToken: z.string(),
    refreshExpiresIn: z.number().int(),
  })
  .openapi('Tokens')

export const SessionSchema = z
  .object({
    user: z.object({ id: UserId, email: z.string() }),
    profile: ProfileSchema,
    tokens: TokensSchema,
  })
  .openapi('Session')

export const MeSchema = z
  .object({ id: UserId, email: z.string(), profile: ProfileSchema })
  .openapi('Me')

const bearer = [{ bearer: [] }]

export const routes = {
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
  listProfiles: createRoute({
    method: 'get',
    path: '/v1/profiles',
    tags: ['profiles'],
    request: {
      query: z.object({
        cursor: z.string().max(200).optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20),
      }),
    },
    responses: {
      200: json(ProfilePageSchema, 'A page, in a stable order'),
      304: { description: 'Not modified' },
      ...commonErrors,
    },
  }),
  getProfile: createRoute({
    method: 'get',
    path: '/v1/profiles/{id}',
    tags: ['profiles'],
    request: { params: z.object({ id: UserId }) },
    responses: {
      200: json(ProfileSchema, 'The profile (x-cache: HIT | MISS | STALE | BYPASS)'),
      304: { description: 'Not modified (If-None-Match)' },
      404: error('No such profile'),
      ...commonErrors,
    },
  }),
  patchProfile: createRoute({
    method: 'patch',
    path: '/v1/profiles/{id}',
    tags: ['profiles'],
    security: bearer,
    request: { params: z.object({ id: UserId }), body: jsonBody(ProfilePatch) },
    responses: {
      200: json(ProfileSchema, 'Updated; every later read sees it'),
      401: error('No valid access token'),
      403: error('Not your profile'),
      404: error('No such profile'),
      ...commonErrors,
    },
  }),
} as const

/** A drizzle profile row as the API shows it. */
export function toProfileDto(row: {
  userId: string
  displayName: string
  bio: string
  avatarUrl: string | null
  location: string | null
  createdAt: Date
  updatedAt: Date
}): ProfileDto {
  return {
    id: row.userId,
    displayName: row.displayName,
    bio: row.bio,
    avatarUrl: row.avatarUrl,
    location: row.location,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}
