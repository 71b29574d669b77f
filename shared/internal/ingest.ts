import { z } from 'zod'
import { idPattern } from '../ids'
import { StoredMessageSchema } from '../message'

/** Most messages, and most read markers, one shipment may carry (all its rooms together). */
export const INGEST_MAX_ITEMS = 5000

const ReadMarkerSchema = z.object({
  user: z.string().regex(idPattern, 'must be a ULID'),
  seq: z.number().int().min(0),
})

/**
 * One room's part of a shipment: its messages in seq order, as the room stores them, and
 * the read markers gathered since the last one.
 */
export const IngestBody = z.object({
  messages: z.array(StoredMessageSchema).max(INGEST_MAX_ITEMS),
  reads: z.array(ReadMarkerSchema).max(INGEST_MAX_ITEMS),
})
export type IngestBody = z.infer<typeof IngestBody>
export type ReadMarker = IngestBody['reads'][number]

/**
 * The highest seq MySQL holds for a room (`GET`, signed): where a room whose storage is
 * empty continues its numbering.
 */
export const storedSeqPath = (roomId: string) => `/internal/rooms/${roomId}/stored-seq`

/** One room's batch on its own (`POST /internal/rooms/:id/ingest`, signed). */
export const ingestPath = (roomId: string) => `/internal/rooms/${roomId}/ingest`

/**
 * What a relay ships (`POST /internal/ingest`, signed): the batches of many rooms in one
 * request. The envelope is checked here; each room's part on its own, so one bad room is
 * refused alone and the others land.
 */
export const RelayIngestBody = z.object({
  rooms: z
    .array(z.object({ roomId: z.string().regex(idPattern, 'must be a ULID'), batch: z.unknown() }))
    .max(INGEST_MAX_ITEMS),
})
export const relayIngestPath = '/internal/ingest'

/** Per room: stored, or refused for what it is (409 seq collision, 422 invalid). */
export type RoomIngestOutcome =
  | { roomId: string; stored: true }
  | { roomId: string; stored: false; status: 409 | 422; reason: string }
export interface RelayIngestAnswer {
  rooms: RoomIngestOutcome[]
}
