import { cacheKeys } from './cache-keys'

/**
 * Rankings (seed 003): rooms and users by messages, per UTC day, per ISO week (Monday to
 * Sunday, UTC) and all time — each a Redis sorted set the origin adds to at ingest, named
 * by the period it counts so a day's set simply stops growing when the day ends.
 */
export const rankingKinds = ['rooms', 'users'] as const
export type RankingKind = (typeof rankingKinds)[number]
export const rankingPeriods = ['day', 'week', 'all'] as const
export type RankingPeriod = (typeof rankingPeriods)[number]

const DAY_MS = 86_400_000

/** When the period a moment falls in began (UTC midnight; a week's Monday); null: all time. */
export function rankingPeriodStart(period: RankingPeriod, at: number): number | null {
  if (period === 'all') return null
  const day = Math.floor(at / DAY_MS) * DAY_MS
  // 1970-01-01 was a Thursday: days since a Monday are (days + 3) mod 7.
  return period === 'day' ? day : day - ((day / DAY_MS + 3) % 7) * DAY_MS
}

/** The name of the period a moment falls in: `2026-12-03`, `w2026-11-30` (its Monday), `all`. */
export function rankingBucket(period: RankingPeriod, at: number): string {
  const start = rankingPeriodStart(period, at)
  if (start === null) return 'all'
  const date = new Date(start).toISOString().slice(0, 10)
  return period === 'week' ? `w${date}` : date
}

/** The sorted set of a ranking at a moment. */
export const rankingKey = (kind: RankingKind, period: RankingPeriod, at: number) =>
  cacheKeys.ranking(kind, rankingBucket(period, at))

/** How long a period's set outlives its period (the dashboard may still read yesterday's). */
export const rankingKeepSeconds: Record<RankingPeriod, number | null> = {
  day: 8 * 86_400,
  week: 5 * 7 * 86_400,
  all: null,
}

/** A sorted set's flat `[member, score, member, score…]` reply (ioredis or Upstash) as entries. */
export function scoredPairs(flat: unknown[]): Array<{ id: string; messages: number }> {
  const out: Array<{ id: string; messages: number }> = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    out.push({ id: String(flat[i]), messages: Number(flat[i + 1]) })
  }
  return out
}

/** A ranked entry: equal scores share a rank, and the next rank skips (1, 2, 2, 4). */
export interface Ranked {
  rank: number
  id: string
  messages: number
}

/**
 * Ranks a run of entries in descending order that starts at `start` (0-based) in the whole
 * set. An entry whose score differs from the one before it has only higher scores before
 * it, so its rank is its place; an equal score shares the rank before it. The first entry
 * may tie with entries before the run: `firstRank` (1 + how many score higher) says.
 */
export function rankRun(
  run: Array<{ id: string; messages: number }>,
  start: number,
  firstRank = start + 1,
): Ranked[] {
  const ranked: Ranked[] = []
  run.forEach((entry, i) => {
    const previous = ranked[i - 1]
    const rank = !previous
      ? firstRank
      : previous.messages === entry.messages
        ? previous.rank
        : start + i + 1
    ranked.push({ rank, ...entry })
  })
  return ranked
}
