import type { Pipeline } from '@upstash/redis'
import { type EdgeSignal, edgeSignalsKey } from '../shared/edge-signals'

/** This isolate's increments not yet written (shared/edge-signals.ts says how they travel). */
const pending = new Map<EdgeSignal, number>()

export function countSignal(signal: EdgeSignal, by = 1): void {
  pending.set(signal, (pending.get(signal) ?? 0) + by)
}

/**
 * Adds the pending increments to a pipeline that is about to be sent, and hands them over;
 * `putBack` returns them if the pipeline failed (Redis down: they wait for the next one).
 */
export function rideAlong(pipeline: Pipeline): { count: number; putBack(): void } {
  const taken = [...pending]
  pending.clear()
  for (const [signal, by] of taken) pipeline.hincrby(edgeSignalsKey, signal, by)
  return {
    count: taken.length,
    putBack: () => {
      for (const [signal, by] of taken) countSignal(signal, by)
    },
  }
}
