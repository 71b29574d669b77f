import { z } from 'zod'
import { idPattern } from './ids'

/**
 * A chat message: one schema, and every shape it travels in derived from it — the
 * history item (`Message`), the room's stored row and the ingest item (`StoredMessage`,
 * time in epoch ms), and the WebSocket frame (`MessageFrame`). Plain zod, so the SDK can
 * import it without the OpenAPI layer.
 */

/** clientMsgId: chosen by the client, unique per author; a retry with the same id gets the original ack. */
/**
 * The author of what a trusted backend publishes into a room: no account has this id (ids
 * are ULIDs made from the clock and randomness; this one is all zeros), so no user can
 * speak as it.
 */
export const SYSTEM_AUTHOR = '00000000000000000000000000'
export const SYSTEM_NAME = 'Plaza'

export const ClientMsgId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only')

/** A lone surrogate: half of a UTF-16 pair with no other half (no UTF-8 can store it). */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * What a client may send as a message, over the socket and over HTTP alike: not empty,
 * and well-formed Unicode. Lone surrogates are refused rather than replaced, so what is
 * delivered live, served from history and stored in MySQL are the same text.
 */
export const MessageBody = z
  .string()
  .min(1, 'must not be empty')
  .refine((s) => !loneSurrogate.test(s), 'must be well-formed Unicode (no lone surrogates)')

export const MessageSchema = z.object({
  seq: z.number().int().positive(),
  id: z.string().min(1).max(26),
  /** The author's user id; names come from presence or the profiles API. */
  author: z.string().regex(idPattern, 'must be a ULID'),
  body: z.string(),
  /** ISO 8601. */
  createdAt: z.string(),
  clientMsgId: ClientMsgId.nullable(),
})
export type Message = z.infer<typeof MessageSchema>

/** As the room stores it and ships it to the origin: `createdAt` in epoch milliseconds. */
export const StoredMessageSchema = MessageSchema.extend({
  createdAt: z.number().int(),
  clientMsgId: z.string().max(64).nullable(),
  /** Bounded by the messages.body column (TEXT): the ingest never writes what would not fit. */
  body: z
    .string()
    .refine((s) => new TextEncoder().encode(s).byteLength <= 65_535, 'longer than 65,535 bytes'),
})
export type StoredMessage = z.infer<typeof StoredMessageSchema>

/** As a room broadcasts it: `clientMsgId` only when the author gave one. */
export const MessageFrameSchema = MessageSchema.extend({
  type: z.literal('message'),
  clientMsgId: z.string().optional(),
})
export type MessageFrame = z.infer<typeof MessageFrameSchema>

export function toMessage(m: StoredMessage): Message {
  return {
    seq: m.seq,
    id: m.id,
    author: m.author,
    body: m.body,
    createdAt: new Date(m.createdAt).toISOString(),
    clientMsgId: m.clientMsgId,
  }
}

export function toFrame(m: Message | StoredMessage): MessageFrame {
  const frame: MessageFrame = {
    type: 'message',
    seq: m.seq,
    id: m.id,
    author: m.author,
    body: m.body,
    createdAt: typeof m.createdAt === 'number' ? new Date(m.createdAt).toISOString() : m.createdAt,
  }
  if (m.clientMsgId) frame.clientMsgId = m.clientMsgId
  return frame
}

/** A page of history, oldest first. */
export interface MessagePage {
  items: Message[]
  /** True when the page holds `limit` messages: such a page never changes and is cached long. */
  full: boolean
}
