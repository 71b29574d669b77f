/**
 * How the edge tells a room who connects: headers only the edge can set (the Durable
 * Object is not reachable from outside), after it has checked the token and membership.
 */
export const roomHeaders = {
  userId: 'x-plaza-user-id',
  userName: 'x-plaza-user-name',
  tokenExp: 'x-plaza-token-exp',
  lastSeq: 'x-plaza-last-seq',
} as const
