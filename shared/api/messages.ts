import { createRoute, z } from '@hono/zod-openapi'
import { ClientMsgId, type Message, MessageBody, MessageSchema as MessageShape } from '../message'
import { AckSchema as AckShape, PresenceUserSchema } from '../protocol'
import type { messages } from '../schema'
import { RoomId, timestamp } from './fields'
import { bearer, commonErrors, error, json, jsonBody, notModified } from './openapi'

/** What happens in a room: its socket, messages, read markers and presence. */

// Rebuilt from the plain shapes' fields, not `.openapi()` on them: those schemas may be
// created before zod-openapi extends zod (the SDK and the room import them without it).
export const MessageSchema = z
  .object({ ...MessageShape.shape, createdAt: timestamp() })
  .openapi('Message')

export const MessagePageSchema = z
  .object({ items: z.array(MessageSchema), full: z.boolean() })
  .openapi('MessagePage')

export const PostMessageBody = z
  .object({ clientMsgId: ClientMsgId, body: MessageBody })
  .strict()
  .openapi('PostMessageBody')

export const AckSchema = z.object(AckShape.shape).openapi('Ack')

export const ReadBody = z
  .object({ seq: z.number().int().min(0) })
  .strict()
  .openapi('ReadBody')

export const PresenceSchema = z
  .object({
    room: RoomId,
    /** Up to the room's presence list limit. */
    users: z.array(PresenceUserSchema),
    online: z.number().int(),
  })
  .openapi('Presence')
export type Presence = z.infer<typeof PresenceSchema>

export const HistoryQuery = z.object({
  before: z.coerce.number().int().min(1).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
})
export type HistoryQuery = z.infer<typeof HistoryQuery>

/** A stored message row (MySQL) as the API shows it. */
export function messageFromRow(row: typeof messages.$inferSelect): Message {
  return {
    seq: row.seq,
    id: row.id,
    author: row.authorId,
    body: row.body,
    createdAt: row.createdAt.toISOString(),
    clientMsgId: row.clientMsgId,
  }
}

const roomParams = z.object({ id: RoomId })

export const messageRoutes = {
  roomSocket: createRoute({
    method: 'get',
    path: '/v1/rooms/{id}/ws',
    tags: ['rooms'],
    description:
      'WebSocket, subprotocol `plaza.v1`; browsers send the access token as a second subprotocol `plaza.bearer.<token>`. `?lastSeq=N` replays what was missed. Frames: shared/protocol.ts.',
    request: {
      params: roomParams,
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
    request: { params: roomParams, body: jsonBody(PostMessageBody) },
    responses: {
      201: json(
        AckSchema,
        'Stored durably by the room; a retry with the same clientMsgId returns the same ack',
      ),
      401: error('No valid access token'),
      404: error('No such room (a private room you are not in is no different)'),
      ...commonErrors,
    },
  }),
  listMessages: createRoute({
    method: 'get',
    path: '/v1/rooms/{id}/messages',
    tags: ['rooms'],
    request: { params: roomParams, query: HistoryQuery },
    responses: {
      200: json(MessagePageSchema, 'Oldest first; full pages are immutable and cached long'),
      304: notModified,
      404: error('No such room (a private room you are not in is no different)'),
      410: error(
        'The range was archived or deleted by retention (RETENTION_ARCHIVE_DAYS, ' +
          'RETENTION_DELETE_DAYS); details: reason, availableFrom (where history now starts)',
      ),
      ...commonErrors,
    },
  }),
  markRead: createRoute({
    method: 'post',
    path: '/v1/rooms/{id}/read',
    tags: ['rooms'],
    security: bearer,
    request: { params: roomParams, body: jsonBody(ReadBody) },
    responses: {
      202: { description: 'Recorded; stored with the next batch' },
      401: error('No valid access token'),
      404: error('No such room (a private room you are not in is no different)'),
      ...commonErrors,
    },
  }),
  presence: createRoute({
    method: 'get',
    path: '/v1/rooms/{id}/presence',
    tags: ['rooms'],
    request: { params: roomParams },
    responses: {
      200: json(PresenceSchema, 'Who is connected now'),
      404: error('No such room (a private room you are not in is no different)'),
      ...commonErrors,
    },
  }),
} as const
