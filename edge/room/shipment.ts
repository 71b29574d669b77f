import type { EdgeConfig } from '../../shared/config'
import { type IngestBody, ingestPath } from '../../shared/internal/ingest'
import { signRequest } from '../../shared/internal/signature'

const encoder = new TextEncoder()

/**
 * The origin refused a shipment for what it is (409 a conflicting message, 413 too large,
 * 422 invalid): sending it again cannot succeed. Anything else (5xx, timeouts, 401 while a
 * secret rotates) is worth retrying.
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

/** The room's `ship`: one batch to the origin's ingest, signed like every edge→origin call. */
export function shipToOrigin(config: EdgeConfig, roomId: string) {
  const path = ingestPath(roomId)
  return async (batch: IngestBody): Promise<void> => {
    const body = encoder.encode(JSON.stringify(batch))
    const headers = await signRequest(config.EDGE_SIGNING_SECRET, {
      method: 'POST',
      pathWithQuery: path,
      userId: '',
      body,
    })
    const res = await fetch(new URL(path, config.ORIGIN_URL), {
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
    await res.body?.cancel()
  }
}
