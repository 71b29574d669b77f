import { ulid } from 'ulidx'

/**
 * The one id generator: ULIDs, sortable by time, made by the application (DESIGN §4).
 * Not the monotonic flavour: it makes ids of the same millisecond consecutive, so one id
 * a user sees would give away its neighbours (another user's private room, say). Each id
 * carries 80 fresh random bits; within one millisecond their order is arbitrary.
 */
export const newId = (): string => ulid()
export const idPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/
