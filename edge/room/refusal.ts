import type { EdgeConfig } from '../../shared/config'
import type { SendResult } from './contract'
import { fitsIn } from './frames'

/** A user's send budget in the room, as `[rate, burst]`. */
export function userSendRate(config: EdgeConfig): [number, number] {
  return [config.ROOM_USER_SENDS_PER_SECOND, config.ROOM_USER_SENDS_BURST]
}

/**
 * Why a new message cannot be taken now, in the order a client can act on it: too large
 * (final), over the user's send budget (retry shortly), the outbox full (retry later).
 * `userBudget` takes from the budget, so it is asked only once the body fits.
 */
export function refusal(
  config: EdgeConfig,
  body: string,
  room: { userBudget: () => boolean; outboxSize: number },
): Extract<SendResult, { ok: false }> | null {
  const max = config.ROOM_MAX_BODY_BYTES
  if (!fitsIn(body, max)) {
    return {
      ok: false,
      code: 'payload_too_large',
      message: `Message body is larger than ${max} bytes`,
    }
  }
  if (!room.userBudget()) {
    const rate = config.ROOM_USER_SENDS_PER_SECOND
    const message = `More than ${rate} sends a second from you in this room; retry shortly`
    return { ok: false, code: 'rate_limited', message }
  }
  if (room.outboxSize >= config.ROOM_OUTBOX_LIMIT) {
    const message = 'The room cannot store more messages until the origin catches up; retry shortly'
    return { ok: false, code: 'unavailable', message }
  }
  return null
}
