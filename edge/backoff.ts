/** Exponential backoff with jitter: half the ceiling plus up to half again, capped. */
export function backoffDelay(attempt: number, maxMs: number, random = Math.random()): number {
  const ceiling = Math.min(maxMs, 250 * 2 ** Math.min(attempt, 20))
  return Math.round(ceiling / 2 + (random * ceiling) / 2)
}
