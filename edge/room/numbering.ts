import type { EdgeConfig } from '../../shared/config'
import { storedSeqPath } from '../../shared/internal/ingest'
import { signRequest } from '../../shared/internal/signature'
import { errorFields, log } from '../log'
import type { FanOut } from './fanout'
import type { RoomOutbox } from './outbox'
import type { RoomStore } from './store'

/**
 * The highest seq MySQL holds for the room, asked of the origin (signed, the primary).
 * A room whose storage is empty — brand new, or lost — continues above it: numbering from
 * 1 again would collide with what already landed (DESIGN §2.1–2.2).
 */
export async function storedSeq(config: EdgeConfig, roomId: string): Promise<number> {
  const path = storedSeqPath(roomId)
  const headers = await signRequest(config.EDGE_SIGNING_SECRET, {
    method: 'GET',
    pathWithQuery: path,
    userId: '',
    body: new Uint8Array(),
  })
  const res = await fetch(new URL(path, config.ORIGIN_URL), {
    headers,
    signal: AbortSignal.timeout(config.ORIGIN_TIMEOUT_MS),
  })
  if (!res.ok) throw new Error(`origin answered ${res.status} for the room's stored seq`)
  const { seq } = (await res.json()) as { seq: number }
  if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`origin sent a bad stored seq: ${seq}`)
  return seq
}

/**
 * Run (under `blockConcurrencyWhile`) when a room wakes with empty storage: learns where
 * MySQL's numbering stands and continues above it. If the origin cannot say, it throws:
 * the object resets and the next call asks again — numbering blind could collide.
 */
export async function learnNumbering(
  config: EdgeConfig,
  roomId: string,
  room: { store: RoomStore; fanout: FanOut; outbox: RoomOutbox },
): Promise<void> {
  try {
    room.store.continueFrom(await storedSeq(config, roomId))
  } catch (err) {
    log('warn', 'room: cannot learn its numbering from the origin; will ask again', {
      room: roomId,
      ...errorFields(err),
    })
    throw err
  }
  room.fanout.broadcastSeq = room.store.seq
  room.outbox.size = room.store.seq - room.store.landedThrough()
}
