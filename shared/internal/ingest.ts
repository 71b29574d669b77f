import { z } from 'zod'
import { idPattern } from '../ids'
import { StoredMessageSchema } from '../message'

/** Most messages, and most read markers, one shipment may carry. */
export const INGEST_MAX_ITEMS = 5000

/**
 * What a room Durable Object ships to the origin (`POST /internal/rooms/:id/ingest`,
 * signed like every edge→origin request): its messages in seq order, as it stores them,
 * and the read markers gathered since the last shipment.
 */
export const IngestBody = z.object({
  messages: z.array(StoredMessageSchema).max(INGEST_MAX_ITEMS),
  reads: z
    .array(
      z.object({
        user: z.string().regex(idPattern, 'must be a ULID'),
        seq: z.number().int().min(0),
      }),
    )
    .max(INGEST_MAX_ITEMS),
})
export type IngestBody = z.infer<typeof IngestBody>
export type ReadMarker = IngestBody['reads'][number]

export const ingestPath = (roomId: string) => `/internal/rooms/${roomId}/ingest`
