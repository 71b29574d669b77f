import { z } from 'zod'

/**
 * The room WebSocket protocol (DESIGN §3), shared by the Room Durable Object, the edge
 * and the client SDK. Frames are JSON text. A server message carries one frame or, when
 * the room batches its broadcast, an array of frames in order; clients accept both.
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
  /** The room is not available right now (storage or startup); reconnect later. */
  unavailable: 4503,
  /** A frame larger than the room accepts. */
  tooLarge: 1009,
} as const

/** clientMsgId: chosen by the client, unique per author; a retry with the same id gets the original ack. */
export const ClientMsgId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only')

export const sendFrame = z.object({
  type: z.literal('send'),
  clientMsgId: ClientMsgId,
  body: z.string(),
})
export const clientFrame = z.discriminatedUnion('type', [
  sendFrame,
  z.object({ type: z.literal('typing') }),
  z.object({ type: z.literal('resume'), lastSeq: z.number().int().min(0) }),
  z.object({ type: z.literal('read'), seq: z.number().int().min(0) }),
])
export type ClientFrame = z.infer<typeof clientFrame>

export interface PresenceUser {
  id: string
  name: string
}

export interface RoomLimits {
  /** Frames per second per connection, sustained… */
  framesPerSecond: number
  /** …and in a burst. */
  burst: number
  maxBodyBytes: number
  maxFrameBytes: number
}

export interface MessageFrame {
  type: 'message'
  seq: number
  id: string
  /** The author's user id; names come from presence or the profiles API. */
  author: string
  body: string
  /** ISO 8601. */
  createdAt: string
  clientMsgId?: string
}

export type ServerFrame =
  | {
      type: 'welcome'
      room: string
      seq: number
      you: PresenceUser
      presence: PresenceUser[]
      /** The room's limits, so a client can pace itself instead of being refused. */
      limits: RoomLimits
    }
  | MessageFrame
  | { type: 'ack'; clientMsgId: string; seq: number; id: string }
  | { type: 'presence'; event: 'joined' | 'left'; user: PresenceUser }
  | { type: 'typing'; user: PresenceUser }
  | { type: 'error'; code: RoomErrorCode; message: string; clientMsgId?: string }
  /** Messages `from`..`to` are older than the room's window: page them with the history API. */
  | { type: 'gap'; from: number; to: number }

export type RoomErrorCode =
  | 'bad_frame'
  | 'payload_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'unauthorized'

/** Heartbeat: the room answers without waking (setWebSocketAutoResponse). */
export const PING = 'ping'
export const PONG = 'pong'

/** Parses one server message into its frames. */
export function parseServerMessage(data: string): ServerFrame[] {
  const parsed = JSON.parse(data) as ServerFrame | ServerFrame[]
  return Array.isArray(parsed) ? parsed : [parsed]
}

/** The message as history and the HTTP send path return it. */
export interface MessageDto {
  seq: number
  id: string
  author: string
  body: string
  createdAt: string
  clientMsgId: string | null
}

/** A page of history, oldest first. */
export interface MessagePage {
  items: MessageDto[]
  /** True when the page holds `limit` messages: such a page never changes and is cached long. */
  full: boolean
}
