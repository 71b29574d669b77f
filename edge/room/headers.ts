import { PROTOCOL } from '../../shared/protocol'

/**
 * How the edge tells a room who connects: headers only the edge can set (the Durable
 * Object is not reachable from outside), after it has checked the token and membership.
 */
export const roomHeaders = {
  userId: 'x-plaza-user-id',
  userName: 'x-plaza-user-name',
  tokenExp: 'x-plaza-token-exp',
  lastSeq: 'x-plaza-last-seq',
  /** When the edge checked the user may use the room (ms): a leave after it wins the race. */
  checkedAt: 'x-plaza-checked-at',
} as const

/** The answer's subprotocol: ours, when the client offered it. */
export function accepted(request: Headers): Headers {
  const headers = new Headers()
  const offered = request
    .get('sec-websocket-protocol')
    ?.split(',')
    .map((p) => p.trim())
  if (offered?.includes(PROTOCOL)) headers.set('sec-websocket-protocol', PROTOCOL)
  return headers
}
