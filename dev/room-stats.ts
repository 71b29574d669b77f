import { signRequest } from '../shared/internal/signature'
import type { Stack } from './stack'

/** What `GET /internal/rooms/:id/stats` answers (edge/room/stats.ts), the fields read here. */
export interface RoomStats {
  seq: number
  unshipped: number
  lowestHeld: number
  sockets: number
  wakes: number
  closedNotReading: number
  presence: Array<{ id: string; name: string }>
}

/** A signed GET of the edge's operator view of a room (tests, benchmarks, the fault campaign). */
export async function roomStats(stack: Stack, roomId: string): Promise<RoomStats> {
  const path = `/internal/rooms/${roomId}/stats`
  const headers = await signRequest(stack.secrets.edgeSigningSecret, {
    method: 'GET',
    pathWithQuery: path,
    userId: '',
    body: new Uint8Array(),
  })
  const res = await fetch(`${stack.urls.edge}${path}`, { headers })
  if (!res.ok) throw new Error(`stats: ${res.status} ${await res.text()}`)
  return (await res.json()) as RoomStats
}
