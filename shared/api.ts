import { createRoute, z } from '@hono/zod-openapi'
import { idPattern } from './ids'
import { ClientMsgId } from './protocol'

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

export const RoomId = UserId.openapi({ example: '01JD3Q6Z8Y0000000000000001' })

export const RoomSchema = z
  .object({
    id: RoomId,
    name: z.string(),
    isPrivate: z.boolean(),
    ownerId: UserId,
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('Room')
export type RoomDto = z.infer<typeof RoomSchema>

export const RoomPageSchema = z
  .object({ items: z.array(RoomSchema), nextCursor: z.string().nullable() })
  .openapi('RoomPage')

export const CreateRoomBody = z
  .object({ name: text(100).pipe(z.string().min(1)), isPrivate: z.boolean().default(false) })
  .strict()
  .openapi('CreateRoomBody')

/** Join yourself (public rooms), or, as the owner of a private room, add `userId`. */
export const JoinRoomBody = z.object({ userId: UserId.optional() }).strict().openapi('JoinRoomBody')

export const MembershipSchema = z
  .object({ roomId: RoomId, userId: UserId, role: z.string(), joinedAt: z.string() })
  .openapi('Membership')

export const MessageSchema = z
  .object({
    seq: z.number().int(),
    id: z.string(),
    author: UserId,
    body: z.string(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    clientMsgId: z.string().nullable(),
  })
  .openapi('Message')

export const MessagePageSchema = z
  .object({ items: z.array(MessageSchema), full: z.boolean() })
  .openapi('MessagePage')

export const PostMessageBody = z
  .object({ clientMsgId: ClientMsgId, body: z.string().min(1) })
  .strict()
  .openapi('PostMessageBody')

export const AckSchema = z
  .object({ clientMsgId: z.string(), seq: z.number().int(), id: z.string() })
  .openapi('Ack')

export const ReadBody = z
  .object({ seq: z.number().int().min(0) })
  .strict()
  .openapi('ReadBody')

export const PresenceSchema = z
  .object({ room: RoomId, users: z.array(z.object({ id: UserId, name: z.string() })) })
  .openapi('Presence')

/** What the room Durable Object ships to the origin: messages in seq order and read markers. */
export const IngestBody = z.object({
  messages: z
    .array(
      z.object({
        seq: z.number().int().positive(),
        id: z.string().min(1).max(26),
        author: UserId,
        clientMsgId: z.string().max(64).nullable(),
        body: z.string(),
        createdAt: z.number().int(),
      }),
    )
    .max(5000),
  reads: z.array(z.object({ user: UserId, seq: z.number().int().min(0) })).max(5000),
})
export type IngestBody = z.infer<typeof IngestBody>

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
  createRoom: createRoute({
    method: 'post',
    path: '/v1/rooms',
    tags: ['rooms'],
    security: bearer,
    request: { body: jsonBody(CreateRoomBody) },
    responses: {
      201: json(RoomSchema, 'Created; you are its owner and first member'),
      401: error('No valid access token'),
      ...commonErrors,
    },
  }),
  listRooms: createRoute({
    method: 'get',
    path: '/v1/rooms',
    tags: ['rooms'],
    request: {
      query: z.object({
        cursor: z.string().max(40).optional(),
        limit: z.coerce.number().int().min(1).max(100).default(20),
      }),
    },
    responses: {
      200: json(RoomPageSchema, 'Public rooms, oldest first'),
      304: { description: 'Not modified' },
      ...commonErrors,
    },
  }),
  getRoom: createRoute({
    method: 'get',
    path: '/v1/rooms/{id}',
    tags: ['rooms'],
    request: { params: z.object({ id: RoomId }) },
    responses: {
      200: json(RoomSchema, 'The room (private rooms: members only)'),
      304: { description: 'Not modified' },
      404: error('No such room, or a private room you are not in'),
      ...commonErrors,
    },
  }),
  joinRoom: createRoute({
    method: 'post',
    path: '/v1/rooms/{id}/members',
    tags: ['rooms'],
    security: bearer,
    request: { params: z.object({ id: RoomId }), body: jsonBody(JoinRoomBody) },
    responses: {
      201: json(MembershipSchema, 'Joined (or already a member)'),
      401: error('No valid access token'),
      403: error('A private room: only its owner adds members'),
      404: error('No such room'),
      ...commonErrors,
    },
  }),
  leaveRoom: createRoute({
    method: 'delete',
    path: '/v1/rooms/{id}/members/me',
    tags: ['rooms'],
    security: bearer,
    request: { params: z.object({ id: RoomId }) },
    responses: {
      204: { description: 'Left; open sockets to the room are closed (private rooms: 4403)' },
      401: error('No valid access token'),
      404: error('No such room, or not a member'),
      ...commonErrors,
    },
  }),
  roomSocket: createRoute({
    method: 'get',
    path: '/v1/rooms/{id}/ws',
    tags: ['rooms'],
    description:
      'WebSocket, subprotocol `plaza.v1`; browsers send the access token as a second subprotocol `plaza.bearer.<token>`. `?lastSeq=N` replays what was missed. Frames: shared/protocol.ts.',
    request: {
      params: z.object({ id: RoomId }),
      query: z.object({ lastSeq: z.coerce.number().int().min(0).optional() }),
    },
    responses: {
      101: {
        description:
          'Switching protocols; errors after the upgrade are close codes 4401/4403/4429/1009',
      },
      426: error('Not a WebSocket upgrade'),
      ...commonErrors,
    },
  }),
  postMessage: createRoute({
    method: 'post',
    path: '/v1/rooms/{id}/messages',
    tags: ['rooms'],
    security: bearer,
    request: { params: z.object({ id: RoomId }), body: jsonBody(PostMessageBody) },
    responses: {
      201: json(
        AckSchema,
        'Stored durably by the room; a retry with the same clientMsgId returns the same ack',
      ),
      401: error('No valid access token'),
      403: error('Not a member of this private room'),
      404: error('No such room'),
      ...commonErrors,
    },
  }),
  listMessages: createRoute({
    method: 'get',
    path: '/v1/rooms/{id}/messages',
    tags: ['rooms'],
    request: {
      params: z.object({ id: RoomId }),
      query: z.object({
        before: z.coerce.number().int().min(1).optional(),
        after: z.coerce.number().int().min(0).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
    },
    responses: {
      200: json(MessagePageSchema, 'Oldest first; full pages are immutable and cached long'),
      304: { description: 'Not modified' },
      403: error('A private room you are not in'),
      404: error('No such room'),
      ...commonErrors,
    },
  }),
  markRead: createRoute({
    method: 'post',
    path: '/v1/rooms/{id}/read',
    tags: ['rooms'],
    security: bearer,
    request: { params: z.object({ id: RoomId }), body: jsonBody(ReadBody) },
    responses: {
      202: { description: 'Recorded; stored with the next batch' },
      401: error('No valid access token'),
      403: error('Not a member of this private room'),
      ...commonErrors,
    },
  }),
  presence: createRoute({
    method: 'get',
    path: '/v1/rooms/{id}/presence',
    tags: ['rooms'],
    request: { params: z.object({ id: RoomId }) },
    responses: {
      200: json(PresenceSchema, 'Who is connected now'),
      403: error('A private room you are not in'),
      404: error('No such room'),
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

export function toRoomDto(row: {
  id: string
  name: string
  isPrivate: boolean
  ownerId: string
  createdAt: Date
}): RoomDto {
  return {
    id: row.id,
    name: row.name,
    isPrivate: row.isPrivate,
    ownerId: row.ownerId,
    createdAt: row.createdAt.toISOString(),
  }
}
