import type { AlarmClock } from './outbox'

/**
 * The room's one storage alarm, shared by the outbox (shipping, retries) and the sockets
 * (token expiry): asking for an alarm keeps the earliest one pending, so neither pushes
 * the other's back. The alarm handler does both jobs each time it fires.
 */
export function earliestAlarm(storage: AlarmClock): AlarmClock {
  return {
    getAlarm: () => storage.getAlarm(),
    async setAlarm(at: number) {
      const current = await storage.getAlarm()
      if (current === null || current > at || current < Date.now()) await storage.setAlarm(at)
    },
  }
}

/** Token expiry is checked on this grid: sockets close within this long after expiry. */
export const EXPIRY_CHECK_MS = 5_000

export const nextExpiryCheck = (expiresAtMs: number) =>
  Math.ceil(expiresAtMs / EXPIRY_CHECK_MS) * EXPIRY_CHECK_MS
