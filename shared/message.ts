import { z } from 'zod'
import { idPattern } from './ids'

/**
 * A chat message: one schema, and every shape it travels in derived from it — the
 * history item (`Message`), the room's stored row and the ingest item (`StoredMessage`,
 * time in epoch ms), and the WebSocket frame (`MessageFrame`). Plain zod, so the SDK can
 * import it without the OpenAPI layer.
 */

/** clientMsgId: chosen by the client, unique per author; a retry with the same id gets the original ack. */
export const ClientMsgId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only')

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
