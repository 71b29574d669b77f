import type { Pipeline } from '@upstash/redis'
import type { Context, MiddlewareHandler } from 'hono'
import { cacheKeys } from '../../shared/cache-keys'
import type { EdgeConfig } from '../../shared/config'
import { ApiError } from '../../shared/errors'
import { SLIDING_WINDOW } from '../../shared/rate-limit'
import type { AppEnv } from '../env'
import { errorFields, log } from '../log'
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

let scriptSha: Promise<string> | undefined
function sha(): Promise<string> {
  scriptSha ??= crypto.subtle
    .digest('SHA-1', new TextEncoder().encode(SLIDING_WINDOW))
    .then((d) => Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join(''))
  return scriptSha
}

function scriptCall(rule: Rule, now: number): { keys: string[]; args: number[] } {
  const windowMs = rule.windowSeconds * 1000
  const index = Math.floor(now / windowMs)
  const prefix = `${cacheKeys.rateLimit(rule.name)}:${rule.identifier}`
  return {
    keys: [`${prefix}:${index}`, `${prefix}:${index - 1}`],
    args: [rule.limit, now, windowMs],
  }
}

function verdictOf(rule: Rule, now: number, reply: unknown): Verdict {
  const [allowed, used] = reply as [number, number]
  const windowMs = rule.windowSeconds * 1000
  return {
    success: allowed === 1,
    limit: rule.limit,
    remaining: Math.max(0, rule.limit - Number(used)),
    reset: (Math.floor(now / windowMs) + 1) * windowMs,
  }
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

/** One command's answer in an Upstash pipeline run with `keepErrors`. */
export type Reply = { result?: unknown; error?: string }

/**
 * One request's rate-limit check: its rules, counted in Redis by the sliding-window script.
 * The check is either run on its own (`run`) or appended to a pipeline the request makes
 * anyway (`append`, then `settle` with the replies), so a cached read costs one round trip.
 */
export class LimitCheck {
  private readonly now = Date.now()
  private verdicts: Verdict[] | undefined
  private shaValue = ''

  constructor(
    private readonly config: EdgeConfig,
    private readonly rules: Rule[],
    private readonly requestId: string,
  ) {}

  get settled(): boolean {
    return this.verdicts !== undefined
  }

  /** Adds one EVALSHA per rule to `pipeline`; their replies come first, in rule order. */
  async append(pipeline: Pipeline): Promise<number> {
    this.shaValue = await sha()
    for (const rule of this.rules) {
      const { keys, args } = scriptCall(rule, this.now)
      pipeline.evalsha(this.shaValue, keys, args)
    }
    return this.rules.length
  }

  /** Turns the pipeline's replies into verdicts; null replies mean Redis was unreachable (`err`). */
  async settle(replies: Reply[] | null, err?: unknown): Promise<void> {
    if (!replies) {
      this.failOpen(err)
      return
    }
    const verdicts: Verdict[] = []
    for (const [i, rule] of this.rules.entries()) {
      const reply = replies[i]
      if (reply?.error === undefined) {
        verdicts.push(verdictOf(rule, this.now, reply?.result))
        continue
      }
      // The script is not cached on this Redis yet (first use, restart, SCRIPT FLUSH): EVAL loads it.
      try {
        if (!reply.error.includes('NOSCRIPT')) throw new Error(reply.error)
        const { keys, args } = scriptCall(rule, this.now)
        const result = await services(this.config).redis.eval(SLIDING_WINDOW, keys, args)
        verdicts.push(verdictOf(rule, this.now, result))
      } catch (err) {
        this.failOpen(err)
        return
      }
    }
    this.verdicts = verdicts
  }

  /** Runs the check as its own round trip. */
  async run(): Promise<void> {
    const pipeline = services(this.config).redis.pipeline()
    await this.append(pipeline)
    try {
      await this.settle((await pipeline.exec({ keepErrors: true })) as Reply[])
    } catch (err) {
      // Logged by failOpen, at most every 10 s: not once per request while Redis is away.
      await this.settle(null, err)
    }
  }

  private failOpen(err: unknown): void {
    const now = Date.now()
    rateLimitStats.failOpen += 1
    if (now - rateLimitStats.lastFailOpenAt > 10_000) {
      log('warn', 'rate limiter failing open to the in-isolate limiter', {
        requestId: this.requestId,
        failOpenCount: rateLimitStats.failOpen,
        ...(err ? errorFields(err) : {}),
      })
    }
    rateLimitStats.lastFailOpenAt = now
    this.verdicts = this.rules.map((rule) => localVerdict(rule, now))
  }

  /** RateLimit-* headers of the tightest bucket; throws 429 when any bucket refused. */
  enforce(): Record<string, string> {
    const verdicts = this.verdicts ?? []
    if (!verdicts.length) return {}
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
    return headers
  }
}

async function emailOf(c: Context<AppEnv>): Promise<string | null> {
  try {
    const body = (await c.req.raw.clone().json()) as { email?: unknown }
    return typeof body.email === 'string' ? body.email.trim().toLowerCase().slice(0, 254) : null
  } catch {
    return null
  }
}

async function rulesFor(c: Context<AppEnv>, auth: boolean): Promise<Rule[]> {
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
  if (auth) {
    const perWindow = config.RATE_LIMIT_AUTH_PER_15_MINUTES
    rules.push({ name: 'auth-ip', identifier: ip, limit: perWindow, windowSeconds: 900 })
    const email = await emailOf(c)
    if (email)
      rules.push({ name: 'auth-email', identifier: email, limit: perWindow, windowSeconds: 900 })
  }
  return rules
}

/**
 * Rate limits (sliding window in Upstash): per user when signed in, per IP otherwise, a
 * per-route override from RATE_LIMIT_ROUTES (keyed "METHOD /route/:pattern"), and for
 * sign-in/sign-up also per IP and per email over 15 minutes. Every response carries
 * RateLimit-* headers for the tightest bucket; a refusal is 429 with Retry-After.
 *
 * `withRead`: the handler's cached read carries the check in its own Upstash pipeline
 * (`c.var.limit`), so a HIT is one round trip; nothing is served before the verdict. If the
 * handler answers without reading (bad input), the check runs on its own afterwards.
 */
export function rateLimit(
  options: { auth?: boolean; withRead?: boolean } = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const check = new LimitCheck(
      c.var.config,
      await rulesFor(c, options.auth ?? false),
      c.var.requestId,
    )
    if (options.withRead) {
      c.set('limit', check)
      try {
        await next()
      } finally {
        if (!check.settled) await check.run()
      }
      // A refused request gets 429 whatever the handler said; hono's compose routes it to onError.
      const headers = check.enforce()
      for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
      return
    }
    await check.run()
    const headers = check.enforce()
    await next()
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
  }
}
