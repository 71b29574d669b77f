import { createRoute, z } from '@hono/zod-openapi'
import type { rooms } from '../schema'
import { RoomId, text, timestamp, UserId } from './fields'
import {
  bearer,
  commonErrors,
  error,
  json,
  jsonBody,
  notModified,
  pageOf,
  pageQuery,
} from './openapi'

export const RoomSchema = z
  .object({
    id: RoomId,
    name: z.string(),
    isPrivate: z.boolean(),
    ownerId: UserId,
    createdAt: timestamp(),
  })
  .openapi('Room')
export type Room = z.infer<typeof RoomSchema>

export const RoomPageSchema = pageOf(RoomSchema, 'RoomPage')
export type RoomPage = z.infer<typeof RoomPageSchema>

export const CreateRoomBody = z
  .object({ name: text(100).pipe(z.string().min(1)), isPrivate: z.boolean().default(false) })
  .strict()
  .openapi('CreateRoomBody')

/** Join yourself (public rooms), or, as the owner of a private room, add `userId`. */
export const JoinRoomBody = z.object({ userId: UserId.optional() }).strict().openapi('JoinRoomBody')

export const MembershipSchema = z
  .object({ roomId: RoomId, userId: UserId, role: z.string(), joinedAt: timestamp() })
  .openapi('Membership')
export type Membership = z.infer<typeof MembershipSchema>

/** A room row as the API shows it. */
export function toRoom(row: typeof rooms.$inferSelect): Room {
  return {
    id: row.id,
    name: row.name,
    isPrivate: row.isPrivate,
    ownerId: row.ownerId,
    createdAt: row.createdAt.toISOString(),
  }
}

const roomParams = z.object({ id: RoomId })

export const roomRoutes = {
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
    request: { query: pageQuery(40) },
    responses: {
      200: json(RoomPageSchema, 'Public rooms, oldest first'),
      304: notModified,
      ...commonErrors,
    },
  }),
  getRoom: createRoute({
    method: 'get',
    path: '/v1/rooms/{id}',
    tags: ['rooms'],
    request: { params: roomParams },
    responses: {
      200: json(RoomSchema, 'The room (private rooms: members only)'),
      304: notModified,
      404: error('No such room, or a private room you are not in'),
      ...commonErrors,
    },
  }),
  joinRoom: createRoute({
    method: 'post',
    path: '/v1/rooms/{id}/members',
    tags: ['rooms'],
    security: bearer,
    request: { params: roomParams, body: jsonBody(JoinRoomBody) },
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
    request: { params: roomParams },
    responses: {
      204: { description: 'Left; open sockets to the room are closed (private rooms: 4403)' },
      401: error('No valid access token'),
      404: error('No such room, or not a member'),
      ...commonErrors,
    },
  }),
} as const
