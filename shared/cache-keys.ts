/**
 * Every Redis key Plaza writes, in one place, so the edge (reader) and the origin
 * (invalidator) can never disagree on a name. Keys are prefixed so one Redis can host
 * several deployments.
 */
const prefix = 'plaza:v1'

export const cacheKeys = {
  /** Generation counter of one cached scope; bumping it orphans every entry filled under the old value. */
  generation: (scope: string) => `${prefix}:gen:${scope}`,
  /** Entries carry the generation they were filled under; see edge/cache.ts. */
  profile: (id: string) => `${prefix}:profile:${id}`,
  profileList: (cursor: string, limit: number) => `${prefix}:profiles:${cursor || '-'}:${limit}`,
  room: (id: string) => `${prefix}:room:${id}`,
  roomList: (cursor: string, limit: number) => `${prefix}:rooms:${cursor || '-'}:${limit}`,
  /** A page of history: keyed by its exact bounds, so a full page (immutable) is one key forever. */
  messagePage: (roomId: string, before: number | '', after: number | '', limit: number) =>
    `${prefix}:msgs:${roomId}:${before}:${after}:${limit}`,
  rateLimit: (bucket: string) => `${prefix}:rl:${bucket}`,
  /** The admin dashboard's metrics for a period (one entry for every admin: it is global). */
  dashboardMetrics: (period: string) => `${prefix}:dash:metrics:${period}`,
  /** A room's message statistics for a period (the same for everyone allowed to see them). */
  roomMessageStats: (roomId: string, period: string) => `${prefix}:dash:room:${roomId}:${period}`,
  /** A page of the admins' recent activity. */
  recentActivity: (limit: number, cursor: string) =>
    `${prefix}:dash:activity:${limit}:${cursor || '-'}`,
  /** A ranking's sorted set: `bucket` names its kind and period (shared/rankings.ts). */
  ranking: (kind: string, bucket: string) => `${prefix}:rank:${kind}:${bucket}`,
  /** A ranking as served (top N, or around a user), cached like any read. */
  rankingView: (kind: string, period: string, limit: number, around: string) =>
    `${prefix}:dash:rank:${kind}:${period}:${limit}:${around || '-'}`,
  /** A user's stats (messages, rooms, rank) as served. */
  userStats: (userId: string, viewer: string) => `${prefix}:dash:user:${userId}:${viewer}`,
  /** The live dashboard's counters: messages per 10-second bucket, per hour, and rooms by last message. */
  liveMessages: (bucketMs: number) => `${prefix}:live:msgs:${bucketMs}`,
  liveHour: (hourMs: number) => `${prefix}:live:hour:${hourMs}`,
  liveRooms: `${prefix}:live:rooms`,
  /** One minute of the origin's per-route latencies and errors (origin/analytics/performance.ts). */
  performance: (minuteMs: number) => `${prefix}:perf:${minuteMs}`,
  /** The edge's counters, one hash (shared/edge-signals.ts). */
  edgeSignals: `${prefix}:signals:edge`,
  /** The rooms' and relays' counters, one hash; the relays' gauges, another (shared/room-signals.ts). */
  roomSignals: `${prefix}:signals:rooms`,
  relaySignals: `${prefix}:signals:relays`,
  /** A signed edge→origin write already seen (the origin's replay guard). */
  signatureSeen: (macHex: string) => `${prefix}:sig:${macHex}`,
} as const

/** Invalidation scopes: the origin bumps them on writes, the edge checks them on reads. */
export const cacheScopes = {
  profile: (id: string) => `profile:${id}`,
  profileList: 'profiles',
  room: (id: string) => `room:${id}`,
  roomList: 'rooms',
  /** Never bumped: full pages of history are immutable. */
  history: (roomId: string) => `history:${roomId}`,
  /** Never bumped: dashboards expire by their TTL. */
  dashboard: 'dashboard',
} as const
