import type { Redis } from 'ioredis'
import { cacheKeys } from '../../shared/cache-keys'
import { namedRanks } from '../../shared/dashboard-queries'
import { TILE_INTERVAL_MS, type Tiles } from '../../shared/live'
import type { StoredMessage } from '../../shared/message'
import { rankingKey, scoredPairs } from '../../shared/rankings'
import { relaySignalsKey } from '../../shared/room-signals'
import type { Database } from '../db'
import { postToEdge } from '../edge-client'
import type { Logger } from '../logger'
import { replies } from '../redis-replies'

const BUCKET_MS = 10_000
const HOUR_MS = 3_600_000
const ACTIVE_MS = 5 * 60_000
const TOP = 5
/** The sockets tile changes without messages (relays report every SIGNALS_INTERVAL_MS): refreshed this often anyway. */
const REFRESH_MS = 10_000

/**
 * Feeds the live dashboard: at ingest the new messages are counted in Redis (per 10-second
 * bucket, per hour, rooms by their last message), then the tiles are computed from Redis
 * and posted to the edge's channel — at once after a quiet second, otherwise once that
 * second is up (the channel throttles per tile again, for every worker together).
 */
export function liveFeed(deps: {
  db: Database['primary']
  redis: Redis
  edgeUrl: string | undefined
  secret: string
  log: Logger
}) {
  const { db, redis, edgeUrl, secret, log } = deps

  async function record(fresh: Array<{ roomId: string; message: StoredMessage }>) {
    if (!fresh.length) return
    // Counted here first: a shipment of thousands is a handful of commands.
    const buckets = new Map<number, number>()
    const hours = new Map<number, number>()
    const rooms = new Map<string, number>()
    for (const { roomId, message } of fresh) {
      const bucket = Math.floor(message.createdAt / BUCKET_MS) * BUCKET_MS
      const hour = Math.floor(message.createdAt / HOUR_MS) * HOUR_MS
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1)
      hours.set(hour, (hours.get(hour) ?? 0) + 1)
      rooms.set(roomId, Math.max(rooms.get(roomId) ?? 0, message.createdAt))
    }
    const pipeline = redis.pipeline()
    for (const [bucket, n] of buckets) {
      pipeline.incrby(cacheKeys.liveMessages(bucket), n).expire(cacheKeys.liveMessages(bucket), 120)
    }
    for (const [hour, n] of hours) {
      pipeline.incrby(cacheKeys.liveHour(hour), n).expire(cacheKeys.liveHour(hour), 2 * 3_600)
    }
    for (const [roomId, at] of rooms) pipeline.zadd(cacheKeys.liveRooms, 'GT', at, roomId)
    await replies(pipeline)
  }

  async function top(kind: 'rooms' | 'users', now: number) {
    const flat = await redis.zrange(rankingKey(kind, 'day', now), 0, TOP - 1, 'REV', 'WITHSCORES')
    return namedRanks(db, kind, scoredPairs(flat), 0)
  }

  async function tiles(now = Date.now()): Promise<Tiles> {
    const bucket = Math.floor(now / BUCKET_MS) * BUCKET_MS
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS
    const minute = Array.from({ length: 6 }, (_, i) =>
      cacheKeys.liveMessages(bucket - i * BUCKET_MS),
    )
    const [counts, current, , active, relays] = await replies(
      redis
        .pipeline()
        .mget(...minute)
        .get(cacheKeys.liveHour(hour))
        .zremrangebyscore(cacheKeys.liveRooms, '-inf', now - ACTIVE_MS)
        .zcount(cacheKeys.liveRooms, now - ACTIVE_MS, '+inf')
        .hgetall(relaySignalsKey),
    )
    const sockets = Object.entries(relays as Record<string, string>)
      .filter(([field]) => field.endsWith(':sockets'))
      .reduce((n, [, v]) => n + Number(v), 0)
    const [topRooms, topUsers] = await Promise.all([top('rooms', now), top('users', now)])
    return {
      messagesPerMinute: (counts as Array<string | null>).reduce((n, v) => n + Number(v ?? 0), 0),
      activeRooms: Number(active),
      socketsOpen: sockets,
      currentHour: { start: new Date(hour).toISOString(), messages: Number(current ?? 0) },
      topRooms,
      topUsers,
    }
  }

  async function send(): Promise<void> {
    const res = await postToEdge(edgeUrl!, secret, '/internal/live/tiles', await tiles())
    if (res.status !== 204) throw new Error(`edge answered ${res.status}`)
  }

  let lastSent = 0
  let timer: NodeJS.Timeout | null = null
  /** Something changed: tiles go out now, or when this worker's second is up. */
  function changed(): void {
    if (!edgeUrl || timer) return
    const wait = Math.max(0, lastSent + TILE_INTERVAL_MS - Date.now())
    timer = setTimeout(() => {
      timer = null
      lastSent = Date.now()
      send().catch((err: Error) => log.debug({ err: err.message }, 'live dashboard not fed'))
    }, wait)
    timer.unref()
  }
  if (edgeUrl) setInterval(changed, REFRESH_MS).unref()

  return { record, changed, tiles }
}
