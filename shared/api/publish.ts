import { createRoute, z } from '@hono/zod-openapi'
import { ClientMsgId, MessageBody, SYSTEM_AUTHOR, SYSTEM_NAME } from '../message'
import { RoomId } from './fields'
import { bearer, commonErrors, error, json, jsonBody } from './openapi'

export { SYSTEM_AUTHOR, SYSTEM_NAME }

export const PublishBody = z
  .object({
    /** Publishing again with the same key gives the first publish's ack (kept 24 h by the room). */
    idempotencyKey: ClientMsgId,
    body: MessageBody,
  })
  .strict()
  .openapi('PublishBody')

export const PublishAckSchema = z
  .object({ idempotencyKey: z.string(), seq: z.number().int(), id: z.string() })
  .openapi('PublishAck')

export const AnnouncementBody = z.object({ body: MessageBody }).strict().openapi('AnnouncementBody')

export const AnnouncementSchema = z
  .object({ id: z.string(), roomId: RoomId, eventId: z.string(), createdAt: z.string() })
  .openapi('Announcement')

const roomParams = z.object({ id: RoomId })

export const publishRoutes = {
  publishToRoom: createRoute({
    method: 'post',
    path: '/v1/rooms/{id}/publish',
    tags: ['rooms'],
    description:
      "A trusted backend's message into a room, with a user's guarantees: numbered, durable " +
      'before the ack, idempotent by key. Not for users: the request is signed (HMAC-SHA256, ' +
      'the x-plaza-signature scheme) with PUBLISH_SIGNING_SECRET — or by the origin with its ' +
      `edge secret. The author is ${SYSTEM_AUTHOR} ("${SYSTEM_NAME}").`,
    request: { params: roomParams, body: jsonBody(PublishBody) },
    responses: {
      201: json(PublishAckSchema, 'Stored (or stored before, with this key)'),
      401: error('Missing or bad signature'),
      404: error('No such room'),
      ...commonErrors,
    },
  }),
  announce: createRoute({
    method: 'post',
    path: '/v1/rooms/{id}/announcements',
    tags: ['rooms'],
    security: bearer,
    description:
      "The room owner's announcement: recorded and queued for the room in one transaction " +
      '(the transactional outbox), then published into the room exactly once, as ' +
      `"${SYSTEM_NAME}".`,
    request: { params: roomParams, body: jsonBody(AnnouncementBody) },
    responses: {
      202: json(AnnouncementSchema, 'Recorded; in the room within moments'),
      401: error('No valid access token'),
      403: error("Not the room's owner"),
      404: error('No such room'),
      ...commonErrors,
    },
  }),
}
