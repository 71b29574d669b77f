import type { EdgeConfig } from '../../shared/config'
import { type IngestBody, ingestPath } from '../../shared/internal/ingest'
import { signRequest } from '../../shared/internal/signature'

const encoder = new TextEncoder()

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
      throw new Error(`origin answered ${res.status}: ${(await res.text()).slice(0, 300)}`)
    }
    await res.body?.cancel()
  }
}
