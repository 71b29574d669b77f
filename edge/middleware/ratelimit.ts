import { Ratelimit } from '@upstash/ratelimit'
import type { Context, MiddlewareHandler } from 'hono'
import { cacheKeys } from '../../shared/cache-keys'
import type { EdgeConfig } from '../../shared/config'
import { ApiError } from '../../shared/errors'
import type { AppEnv } from '../env'
import { log } from '../log'
import { services } from '../services'

interface Rule {
  /** Bucket name: what is counted (ip, user, auth-ip, auth-email, or a route). */
  name: string
  identifier: string
  limit: number
  windowSeconds: number
}

interface Verdict {
  success: boolean
  limit: number
  remaining: number
  /** Unix ms when the window resets. */
  reset: number
}

/** Fail-open events in this isolate: Redis unreachable or too slow. Reported by /health. */
export const rateLimitStats = { failOpen: 0, lastFailOpenAt: 0 }

const limiters = new Map<string, Ratelimit>()
function limiterFor(config: EdgeConfig, rule: Rule): Ratelimit {
  const key = `${rule.name}:${rule.limit}:${rule.windowSeconds}`
  let limiter = limiters.get(key)
  if (!limiter) {
    limiter = new Ratelimit({
      redis: services(config).redis,
      limiter: Ratelimit.slidingWindow(rule.limit, `${rule.windowSeconds} s`),
      prefix: cacheKeys.rateLimit(rule.name),
      ephemeralCache: new Map(),
      timeout: config.RATE_LIMIT_TIMEOUT_MS,
      analytics: false,
    })
    limiters.set(key, limiter)
  }
  return limiter
}

/** The fallback while Redis is away: a fixed window per isolate. Coarser, but never unlimited. */
const local = new Map<string, { windowStart: number; count: number }>()
function localVerdict(rule: Rule, now: number): Verdict {
  const windowMs = rule.windowSeconds * 1000
  const key = `${rule.name}:${rule.identifier}`
  let entry = local.get(key)
  if (!entry || now - entry.windowStart >= windowMs) {
    entry = { windowStart: now, count: 0 }
    local.set(key, entry)
    if (local.size > 10_000) local.delete(local.keys().next().value as string)
  }
  entry.count += 1
  return {
    success: entry.count <= rule.limit,
    limit: rule.limit,
    remaining: Math.max(0, rule.limit - entry.count),
    reset: entry.windowStart + windowMs,
  }
}

async function check(config: EdgeConfig, rule: Rule, requestId: string): Promise<Verdict> {
  try {
    const result = await limiterFor(config, rule).limit(rule.identifier)
    if (result.reason !== 'timeout') return result
  } catch {
    // fall through: Redis is unreachable
  }
  const now = Date.now()
  rateLimitStats.failOpen += 1
  if (now - rateLimitStats.lastFailOpenAt > 10_000) {
    log('warn', 'rate limiter failing open to the in-isolate limiter', {
      requestId,
      failOpenCount: rateLimitStats.failOpen,
    })
  }
  rateLimitStats.lastFailOpenAt = now
  return localVerdict(rule, now)
}

async function emailOf(c: Context<AppEnv>): Promise<string | null> {
  try {
    const body = (await c.req.raw.clone().json()) as { email?: unknown }
    return typeof body.email === 'string' ? body.email.trim().toLowerCase().slice(0, 254) : null
  } catch {
    return null
  }
}

/**
 * Rate limits (@upstash/ratelimit, sliding window): per user when signed in, per IP
 * otherwise, a per-route override from RATE_LIMIT_ROUTES (keyed "METHOD /route/:pattern"),
 * and for sign-in/sign-up also per IP and per email over 15 minutes. Every response
 * carries RateLimit-* headers for the tightest bucket; a refusal is 429 with Retry-After.
 */
export function rateLimit(options: { auth?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const config = c.var.config
    const ip = c.req.header('cf-connecting-ip') ?? 'unknown'
    const userId = c.var.userId
    const subject = userId ? `user:${userId}` : `ip:${ip}`
    const route = `${c.req.method} ${c.req.routePath}`
    const override = config.RATE_LIMIT_ROUTES[route]
    const rules: Rule[] = [
      override
        ? { name: `route:${route}`, identifier: subject, limit: override, windowSeconds: 60 }
        : userId
          ? {
              name: 'user',
              identifier: userId,
              limit: config.RATE_LIMIT_USER_PER_MINUTE,
              windowSeconds: 60,
            }
          : {
              name: 'ip',
              identifier: ip,
              limit: config.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
              windowSeconds: 60,
            },
    ]
    if (options.auth) {
      const perWindow = config.RATE_LIMIT_AUTH_PER_15_MINUTES
      rules.push({ name: 'auth-ip', identifier: ip, limit: perWindow, windowSeconds: 900 })
      const email = await emailOf(c)
      if (email)
        rules.push({ name: 'auth-email', identifier: email, limit: perWindow, windowSeconds: 900 })
    }
    const verdicts = await Promise.all(rules.map((rule) => check(config, rule, c.var.requestId)))
    const tightest = verdicts.reduce((a, b) => (b.remaining < a.remaining ? b : a))
    const now = Date.now()
    const headers: Record<string, string> = {
      'RateLimit-Limit': String(tightest.limit),
      'RateLimit-Remaining': String(tightest.remaining),
      'RateLimit-Reset': String(Math.max(0, Math.ceil((tightest.reset - now) / 1000))),
    }
    const refused = verdicts.filter((v) => !v.success)
    if (refused.length) {
      const retryAfter = Math.max(1, ...refused.map((v) => Math.ceil((v.reset - now) / 1000)))
      throw new ApiError('rate_limited', `Too many requests; retry in ${retryAfter} s`, {
        headers: { ...headers, 'RateLimit-Remaining': '0', 'Retry-After': String(retryAfter) },
      })
    }
    await next()
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
  }
}
