import type { EdgeConfig } from '../../shared/config'
import {
  type IngestBody,
  type RelayIngestAnswer,
  relayIngestPath,
} from '../../shared/internal/ingest'
import { signRequest } from '../../shared/internal/signature'

const encoder = new TextEncoder()

/**
 * The origin refused a whole shipment for what it is (413 too large, 422 invalid, 409):
 * sending it again cannot succeed. Anything else (5xx, timeouts, 401 while a secret
 * rotates) is worth retrying.
 */
export class ShipmentRefused extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`origin refused the shipment with ${status}: ${reason}`)
    this.name = 'ShipmentRefused'
  }
}

const refusedStatuses = new Set([409, 413, 422])

/** The relay's `ship`: many rooms' batches in one signed request to the origin's ingest. */
export function shipToOrigin(config: EdgeConfig) {
  return async (rooms: Map<string, IngestBody>): Promise<RelayIngestAnswer> => {
    const payload = { rooms: [...rooms].map(([roomId, batch]) => ({ roomId, batch })) }
    const body = encoder.encode(JSON.stringify(payload))
    const headers = await signRequest(config.EDGE_SIGNING_SECRET, {
      method: 'POST',
      pathWithQuery: relayIngestPath,
      userId: '',
      body,
    })
    const res = await fetch(new URL(relayIngestPath, config.ORIGIN_URL), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(config.ORIGIN_TIMEOUT_MS),
    })
    if (!res.ok) {
      const text = (await res.text()).slice(0, 300)
      if (refusedStatuses.has(res.status)) throw new ShipmentRefused(res.status, text)
      throw new Error(`origin answered ${res.status}: ${text}`)
    }
    return (await res.json()) as RelayIngestAnswer
  }
}
