import { ulid } from 'ulidx'

/**
 * Random bytes for ids, drawn from the platform's CSPRNG a pool at a time: ulidx's own
 * source asks `crypto.getRandomValues` for one byte per character (16 calls an id, a
 * measurable share of a room's CPU per message). Filled lazily: Workers forbid random
 * values at global scope.
 */
const pool = new Uint8Array(4096)
let next = pool.length
function pooledRandom(): number {
  if (next === pool.length) {
    crypto.getRandomValues(pool)
    next = 0
  }
  // A byte / 256 is uniform over [0, 1) in steps of 1/256: each of the 32 characters is
  // exactly equally likely.
  return pool[next++]! / 256
}

/**
 * The one id generator: ULIDs, sortable by time, made by the application (DESIGN §4).
 * Not the monotonic flavour: it makes ids of the same millisecond consecutive, so one id
 * a user sees would give away its neighbours (another user's private room, say). Each id
 * carries 80 fresh random bits; within one millisecond their order is arbitrary.
 */
export const newId = (): string => ulid(undefined, pooledRandom)
export const idPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/
