import { z } from 'zod'

/**
 * The live dashboard's tiles (analytics issue): the origin computes them after each
 * ingest and posts them to the edge's LiveDashboard object, which sends each subscriber
 * at most one update per tile per second and the latest of every tile on subscribe.
 */
const Ranked = z.object({
  rank: z.number().int(),
  id: z.string().max(26),
  name: z.string().max(100),
  messages: z.number().int(),
})

export const TilesSchema = z
  .object({
    /** Messages stored over the last 60 s. */
    messagesPerMinute: z.number().int().min(0),
    /** Rooms with a message in the last 5 minutes. */
    activeRooms: z.number().int().min(0),
    /** Open sockets over every room, as the relays last reported them (every SIGNALS_INTERVAL_MS). */
    socketsOpen: z.number().int().min(0),
    /** The current UTC hour's messages so far (the chart's last bar). */
    currentHour: z.object({ start: z.string().max(30), messages: z.number().int().min(0) }),
    /** Today's top public rooms and top users (the rankings' day sets). */
    topRooms: z.array(Ranked).max(10),
    topUsers: z.array(Ranked).max(10),
  })
  .partial()
  .strict()
export type Tiles = z.infer<typeof TilesSchema>
export type TileName = keyof Tiles

/** What the channel sends: some tiles' latest values. */
export interface TilesFrame {
  type: 'tiles'
  tiles: Tiles
}

/** At most one update per tile per this many ms, to each subscriber. */
export const TILE_INTERVAL_MS = 1_000
