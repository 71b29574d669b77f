import { monotonicFactory } from 'ulidx'

/** The one id generator: ULIDs, sortable by time, made by the application (DESIGN §4). */
export const newId: () => string = monotonicFactory()
export const idPattern = /^[0-9A-HJKMNP-TV-Z]{26}$/
