import type { CircuitBreakerPolicy } from 'cockatiel'
import { ApiError } from '../shared/errors'
import { log } from './log'
import { perIsolate } from './per-isolate'
import { countSignal } from './signals'

/** What the edge calls that can go down. */
export const dependencies = ['redis', 'database', 'origin'] as const
export type Dependency = (typeof dependencies)[number]

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated'

/** cockatiel's CircuitState, by value (closed, open, half-open, isolated). */
const stateNames: BreakerState[] = ['closed', 'open', 'half-open', 'isolated']

/**
 * cockatiel, loaded on first use inside a request: its module aborts an AbortController
 * when it is evaluated, which workerd forbids at global scope (the bundler keeps a dynamic
 * import lazy).
 */
const cockatiel = () => import('cockatiel')

interface Breaker {
  policy: CircuitBreakerPolicy
  /** Times the circuit opened in this isolate. */
  opened: number
  /** Calls refused at once because it was open. */
  shortCircuited: number
}

/**
 * One circuit breaker (cockatiel) per dependency per isolate: after `BREAKER_FAILURES`
 * failures in a row the circuit opens, and for `BREAKER_HALF_OPEN_MS` every call fails at
 * once (`BrokenCircuitError`) instead of paying the dependency's timeout; then one call is
 * let through to test it. Callers treat an open circuit exactly as the dependency failing
 * (DESIGN §2.6: limits fail open, reads go stale or to the database, writes get 503).
 * An `ApiError` is an answer, not a failure, and does not count.
 */
const breakerSet = perIsolate(async (config) => {
  const { circuitBreaker, ConsecutiveBreaker, handleWhen } = await cockatiel()
  const make = (name: Dependency): Breaker => {
    const policy = circuitBreaker(
      handleWhen((err) => !(err instanceof ApiError)),
      {
        halfOpenAfter: config.BREAKER_HALF_OPEN_MS,
        breaker: new ConsecutiveBreaker(config.BREAKER_FAILURES),
      },
    )
    const breaker: Breaker = { policy, opened: 0, shortCircuited: 0 }
    policy.onBreak(() => {
      breaker.opened++
      countSignal(`breaker:${name}:opened`)
      log('warn', `circuit open: ${name} is failing; calls fail fast`, {
        dependency: name,
        forMs: config.BREAKER_HALF_OPEN_MS,
      })
    })
    policy.onReset(() => {
      countSignal(`breaker:${name}:closed`)
      log('info', `circuit closed: ${name} answers again`, { dependency: name })
    })
    return breaker
  }
  return { redis: make('redis'), database: make('database'), origin: make('origin') }
})

/** Runs calls to a dependency through its breaker. */
export interface Guard {
  execute<T>(call: () => Promise<T>): Promise<T>
}

/** The isolate's breakers, as guards. */
export const breakers = perIsolate((config): Record<Dependency, Guard> => {
  const guard = (name: Dependency): Guard => ({
    async execute(call) {
      const b = (await breakerSet(config))[name]
      try {
        return await b.policy.execute(call)
      } catch (err) {
        if (isOpenCircuit(err)) {
          b.shortCircuited++
          countSignal(`breaker:${name}:short_circuited`)
        }
        throw err
      }
    },
  })
  return { redis: guard('redis'), database: guard('database'), origin: guard('origin') }
})

/** Each breaker's state and counts, for `/health` (operators) and metrics. */
export async function breakerReport(
  config: Parameters<typeof breakerSet>[0],
): Promise<Record<Dependency, { state: BreakerState; opened: number; shortCircuited: number }>> {
  const set = await breakerSet(config)
  const report = (b: Breaker) => ({
    state: stateNames[b.policy.state] ?? 'closed',
    opened: b.opened,
    shortCircuited: b.shortCircuited,
  })
  return { redis: report(set.redis), database: report(set.database), origin: report(set.origin) }
}

/** Whether `err` is a call refused because its dependency's circuit is open (cockatiel's BrokenCircuitError). */
export const isOpenCircuit = (err: unknown) =>
  (err as { isBrokenCircuitError?: boolean } | null)?.isBrokenCircuitError === true
