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
 * Run when a room wakes with empty storage (under `blockConcurrencyWhile`, so nothing else
 * runs first), and again before a send while it has not succeeded: learns where MySQL's
 * numbering stands and continues above it. If the origin cannot say, the room stays
 * unnumbered and refuses sends as `unavailable` (retryable) — numbering blind could
 * collide — while everything else (history, presence, sockets) works. Resolves true once
 * the room is numbered.
 */
export async function learnNumbering(
  config: EdgeConfig,
  roomId: string,
  room: { store: RoomStore; fanout: FanOut; outbox: RoomOutbox },
): Promise<boolean> {
  try {
    room.store.continueFrom(await storedSeq(config, roomId))
  } catch (err) {
    log('warn', 'room: cannot learn its numbering from the origin; will ask again', {
      room: roomId,
      ...errorFields(err),
    })
    return false
  }
  room.fanout.broadcastSeq = room.store.seq
  room.outbox.size = room.store.seq - room.store.landedThrough()
  return true
}

/**
 * The room's way to learn its numbering, one question at a time. A room that woke with
 * empty storage asks at once, before anything else runs (`blockConcurrencyWhile`); if the
 * origin could not say, each send asks again before it is refused.
 */
export function numbering(
  ctx: DurableObjectState,
  config: EdgeConfig,
  roomId: () => string,
  room: { store: RoomStore; fanout: FanOut; outbox: RoomOutbox },
): () => Promise<boolean> {
  let asking: Promise<boolean> | undefined
  const ask = () => {
    asking ??= learnNumbering(config, roomId(), room).finally(() => {
      asking = undefined
    })
    return asking
  }
  if (!room.store.numbered()) void ctx.blockConcurrencyWhile(ask)
  return ask
}
