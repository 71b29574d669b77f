import { z } from 'zod'
import { idPattern } from './ids'
import { ClientMsgId, MessageBody, type MessageFrame } from './message'

/**
 * The room WebSocket protocol (DESIGN §3), shared by the Room Durable Object, the edge
 * and the client SDK. Frames are JSON text. A server message carries one frame or, when
 * the room batches its broadcast, an array of frames in order; clients accept both.
 * Plain zod (no OpenAPI layer), so the SDK can import it.
 */
export const PROTOCOL = 'plaza.v1'
/** Browsers cannot set headers on a WebSocket: the access token rides as a second subprotocol. */
export const TOKEN_PROTOCOL_PREFIX = 'plaza.bearer.'

export const closeCodes = {
  /** Token missing, invalid or expired: refresh it and reconnect. */
  unauthorized: 4401,
  /** Not a member of this private room (or removed from it): do not reconnect. */
  forbidden: 4403,
  /** This connection sent frames faster than the room allows. */
  flooding: 4429,
  /** The socket stopped reading (it owed more than the room's unread bound): reconnect and resume. */
  notReading: 4408,
  /** The room is not available right now (storage or startup); reconnect later. */
  unavailable: 4503,
  /** A frame larger than the room accepts. */
  tooLarge: 1009,
} as const

export const sendFrame = z.object({
  type: z.literal('send'),
  clientMsgId: ClientMsgId,
  body: MessageBody,
})
export const clientFrame = z.discriminatedUnion('type', [
  sendFrame,
  z.object({ type: z.literal('typing') }),
  z.object({ type: z.literal('resume'), lastSeq: z.number().int().min(0) }),
  z.object({ type: z.literal('read'), seq: z.number().int().min(0) }),
  /** The echo of a `mark`: everything the room sent before it has been read. */
  z.object({ type: z.literal('marked'), id: z.string().max(32) }),
])
export type ClientFrame = z.infer<typeof clientFrame>

/** Someone connected to a room, as presence and typing show them. */
export const PresenceUserSchema = z.object({
  id: z.string().regex(idPattern, 'must be a ULID'),
  name: z.string(),
})
export type PresenceUser = z.infer<typeof PresenceUserSchema>

/** The room's answer to a send, over the socket (`ack` frame) and over HTTP (201). */
export const AckSchema = z.object({
  clientMsgId: z.string(),
  seq: z.number().int(),
  id: z.string(),
})
export type Ack = z.infer<typeof AckSchema>

export interface RoomLimits {
  /** Frames per second per connection, sustained… */
  framesPerSecond: number
  /** …and in a burst. */
  burst: number
  maxBodyBytes: number
  maxFrameBytes: number
  /** Sends per second one user may make across all their sockets in the room… */
  userSendsPerSecond: number
  /** …and in a burst. */
  userSendsBurst: number
  /** Open sockets one user may hold in the room. */
  maxSocketsPerUser: number
}

export type RoomErrorCode =
  | 'bad_frame'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'unauthorized'
  /** The socket's access token expired: it is being closed with 4401; refresh and reconnect. */
  | 'token_expired'

export type ServerFrame =
  | {
      type: 'welcome'
      room: string
      seq: number
      you: PresenceUser
      /** Who is here, up to the room's presence list limit (`online` counts everyone). */
      presence: PresenceUser[]
      /** Users connected now. */
      online: number
      /** The room's limits, so a client can pace itself instead of being refused. */
      limits: RoomLimits
    }
  | MessageFrame
  | ({ type: 'ack' } & Ack)
  /** Someone came or went (rooms within their presence list limit). */
  | { type: 'presence'; event: 'joined' | 'left'; user: PresenceUser; online: number }
  /** How many are here now (rooms past their presence list limit: no per-user events). */
  | { type: 'presence'; event: 'count'; online: number }
  | { type: 'typing'; user: PresenceUser }
  | { type: 'error'; code: RoomErrorCode; message: string; clientMsgId?: string }
  /** Messages `from`..`to` are older than the room's window: page them with the history API. */
  | { type: 'gap'; from: number; to: number }
  /** Echo `{type: 'marked', id}` once read: a socket that does not is closed with 4408. */
  | { type: 'mark'; id: string }

/** Heartbeat: the room answers without waking (setWebSocketAutoResponse). */
export const PING = 'ping'
export const PONG = 'pong'

/** Parses one server message into its frames. */
export function parseServerMessage(data: string): ServerFrame[] {
  const parsed = JSON.parse(data) as ServerFrame | ServerFrame[]
  return Array.isArray(parsed) ? parsed : [parsed]
}
