import type { Context, MiddlewareHandler } from 'hono'
import type { RequestIdVariables } from 'hono/request-id'
import { ApiError } from '../../shared/errors'
import { breakers } from '../breakers'
import { clients } from '../clients'
import { LimitCheck } from '../ratelimit/check'
import { rulesFor } from '../ratelimit/rules'
import { type RoundTripVariables, roundTripOf } from '../round-trip'
import type { AuthVariables } from './auth'
import type { ConfigVariables } from './config'

type LimitEnv = {
  Variables: ConfigVariables & AuthVariables & RequestIdVariables & RoundTripVariables
}

async function emailOf(c: Context): Promise<string | null> {
  try {
    const body = (await c.req.raw.clone().json()) as { email?: unknown }
    return typeof body.email === 'string' ? body.email.trim().toLowerCase().slice(0, 254) : null
  } catch {
    return null
  }
}

/**
 * Rate limits (sliding window in Upstash): per user when signed in, per IP otherwise, a
 * per-route override from RATE_LIMIT_ROUTES (keyed "METHOD /route/:pattern"), and for
 * sign-in/sign-up also per IP and per email over 15 minutes. Every response carries
 * RateLimit-* headers for the tightest bucket; a refusal is 429 with Retry-After.
 *
 * `withRead`: the check rides in the request's round trip, which the handler's cached
 * read sends, so a HIT is one round trip; nothing is served or loaded before the verdict.
 * If the handler answers without reading (bad input), the check runs on its own after.
 *
 * `inIsolate`: the same rules, counted in this isolate only, with no round trip (a room
 * socket's connect and an HTTP send: routes/room-live.ts says why).
 */
export function rateLimit(
  options: { auth?: boolean; withRead?: boolean; inIsolate?: boolean } = {},
): MiddlewareHandler<LimitEnv> {
  return async (c, next) => {
    const config = c.get('config')
    const facts = {
      ip: c.req.header('cf-connecting-ip') ?? 'unknown',
      userId: c.get('userId'),
      route: `${c.req.method} ${c.req.routePath}`,
      email: options.auth ? await emailOf(c) : null,
    }
    const { redis } = clients(config)
    const check = new LimitCheck(redis, rulesFor(config, facts, !!options.auth), c.get('requestId'))
    if (options.inIsolate) {
      const headers = check.settleInIsolate()
      await next()
      for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
      return
    }
    const trip = roundTripOf(c, redis, breakers(config).redis)
    trip.ride(check)
    // On its own: a 429 goes on, a Redis failure has already failed open inside the check.
    const runAlone = () =>
      trip.exec().then(
        () => undefined,
        (err: unknown) => {
          if (err instanceof ApiError) throw err
        },
      )
    if (!options.withRead) await runAlone()
    try {
      await next()
    } finally {
      if (!check.settled) await runAlone()
    }
    // A refused request gets 429 whatever the handler said; hono's compose routes it to onError.
    for (const [name, value] of Object.entries(check.enforce())) c.res.headers.set(name, value)
  }
}
