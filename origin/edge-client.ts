import { signRequest } from '../shared/internal/signature'

/** How long the origin waits for the edge. */
const EDGE_TIMEOUT_MS = 5_000

/**
 * A JSON POST from the origin to the edge, signed with the edge's secret as the edge signs
 * its own calls to the origin (the room events it publishes, the live dashboard's tiles).
 */
export async function postToEdge(
  edgeUrl: string,
  secret: string,
  path: string,
  payload: unknown,
): Promise<Response> {
  const body = new TextEncoder().encode(JSON.stringify(payload))
  const headers = await signRequest(secret, {
    method: 'POST',
    pathWithQuery: path,
    userId: '',
    body,
  })
  return fetch(new URL(path, edgeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(EDGE_TIMEOUT_MS),
  })
}
