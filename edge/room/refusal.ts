import type { EdgeConfig } from '../../shared/config'
import { closeCodes } from '../../shared/protocol'
import type { SendResult } from './contract'
import { fitsIn } from './frames'

/** A user's send budget in the room, as `[rate, burst]`. */
export function userSendRate(config: EdgeConfig): [number, number] {
  return [config.ROOM_USER_SENDS_PER_SECOND, config.ROOM_USER_SENDS_BURST]
}

/**
 * Why a new message cannot be taken now, in the order a client can act on it: too large
 * (final), over the user's send budget (retry shortly), the room not yet knowing where
 * its numbering stands or its outbox full (retry later).
 * `userBudget` takes from the budget, so it is asked only once the body fits.
 */
export function refusal(
  config: EdgeConfig,
  body: string,
  room: { userBudget: () => boolean; outboxSize: number; numbered: boolean },
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
  if (!room.numbered) {
    const message = 'The room cannot number messages until the origin answers; retry shortly'
    return { ok: false, code: 'unavailable', message }
  }
  if (room.outboxSize >= config.ROOM_OUTBOX_LIMIT) {
    const message = 'The room cannot store more messages until the origin catches up; retry shortly'
    return { ok: false, code: 'unavailable', message }
  }
  return null
}

/**
 * Why a socket may not join: its access check happened before the user left (a leave
 * that returned 2xx beats a connect racing it, whatever the interleaving), or the user
 * already holds the most sockets allowed here.
 */
export function connectRefusal(
  config: EdgeConfig,
  checkedAt: number,
  user: { departedAt: number | undefined; openSockets: number },
): { code: number; reason: string } | null {
  if (user.departedAt !== undefined && checkedAt <= user.departedAt) {
    return { code: closeCodes.forbidden, reason: 'no such room' }
  }
  if (user.openSockets >= config.ROOM_MAX_SOCKETS_PER_USER) {
    return { code: closeCodes.flooding, reason: 'too many sockets for one user' }
  }
  return null
}
