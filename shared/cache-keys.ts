/**
 * Every Redis key Plaza writes, in one place, so the edge (reader) and the origin
 * (invalidator) can never disagree on a name. Keys are prefixed so one Redis can host
 * several deployments.
 */
const prefix = 'plaza:v1'

export const cacheKeys = {
  /** Generation counter of one cached scope; bumping it orphans every entry filled under the old value. */
  generation: (scope: string) => `${prefix}:gen:${scope}`,
  profile: (id: string, generation: number) => `${prefix}:profile:${id}:g${generation}`,
  profileList: (cursor: string, limit: number, generation: number) =>
    `${prefix}:profiles:${cursor || '-'}:${limit}:g${generation}`,
  rateLimit: (bucket: string) => `${prefix}:rl:${bucket}`,
} as const
