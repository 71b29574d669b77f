import type { Pipeline, Redis } from '@upstash/redis'
import { cacheKeys } from '../../shared/cache-keys'
import { ApiError } from '../../shared/errors'
import { sha1Hex } from '../../shared/hex'
import { errorFields, log } from '../log'
import type { Reply, Rider } from '../round-trip'
import { countSignal } from '../signals'
import { localVerdict, rateLimitStats } from './fallback'
import type { Rule } from './rules'
import { SLIDING_WINDOW, type Verdict, verdictOf, windowKeys } from './sliding-window'

let scriptSha: Promise<string> | undefined
const sha = () => {
  scriptSha ??= sha1Hex(SLIDING_WINDOW)
  return scriptSha
}

function scriptCall(rule: Rule, now: number): { keys: string[]; args: number[] } {
  const windowMs = rule.windowSeconds * 1000
  const bucket = `${cacheKeys.rateLimit(rule.name)}:${rule.identifier}`
  return { keys: windowKeys(bucket, now, windowMs), args: [rule.limit, now, windowMs] }
}

/** A rule's verdict from this isolate's counts (the fail-open limiter's buckets). */
const localVerdictOf = (rule: Rule, now: number) =>
  localVerdict(`${rule.name}:${rule.identifier}`, rule.limit, rule.windowSeconds * 1000, now)

/**
 * One request's rate-limit check: its rules, counted in Redis by the sliding-window
 * script, one EVALSHA per rule. A `Rider` of the request's round trip: its commands go
 * in whatever pipeline the request sends, and `settle` throws 429 when a bucket refused.
 */
export class LimitCheck implements Rider {
  private readonly now = Date.now()
  private verdicts: Verdict[] | undefined

  constructor(
    private readonly redis: Redis,
    private readonly rules: Rule[],
    private readonly requestId: string,
  ) {}

  get settled(): boolean {
    return this.verdicts !== undefined
  }

  async append(pipeline: Pipeline): Promise<number> {
    const hash = await sha()
    for (const rule of this.rules) {
      const { keys, args } = scriptCall(rule, this.now)
      pipeline.evalsha(hash, keys, args)
    }
    return this.rules.length
  }

  async settle(replies: Reply[] | null, err?: unknown): Promise<void> {
    this.verdicts = replies ? await this.verdictsOf(replies) : this.failOpen(err)
    this.countVerdict()
    this.enforce()
  }

  /**
   * The verdicts from this isolate's own counts, no round trip; throws 429 as `enforce`.
   * Returns the RateLimit-* headers for the response.
   */
  settleInIsolate(): Record<string, string> {
    this.verdicts = this.rules.map((rule) => localVerdictOf(rule, this.now))
    this.countVerdict()
    return this.enforce()
  }

  private countVerdict(): void {
    const allowed = (this.verdicts ?? []).every((v) => v.success)
    countSignal(allowed ? 'rate_limit:allowed' : 'rate_limit:refused')
  }

  private async verdictsOf(replies: Reply[]): Promise<Verdict[]> {
    const verdicts: Verdict[] = []
    for (const [i, rule] of this.rules.entries()) {
      const reply = replies[i]
      const windowMs = rule.windowSeconds * 1000
      if (reply?.error === undefined) {
        verdicts.push(verdictOf(rule.limit, this.now, windowMs, reply?.result))
        continue
      }
      // The script is not cached on this Redis yet (first use, restart, SCRIPT FLUSH): EVAL loads it.
      try {
        if (!reply.error.includes('NOSCRIPT')) throw new Error(reply.error)
        const { keys, args } = scriptCall(rule, this.now)
        const result = await this.redis.eval(SLIDING_WINDOW, keys, args)
        verdicts.push(verdictOf(rule.limit, this.now, windowMs, result))
      } catch (e) {
        return this.failOpen(e)
      }
    }
    return verdicts
  }

  private failOpen(err: unknown): Verdict[] {
    const now = Date.now()
    rateLimitStats.failOpen += 1
    countSignal('rate_limit:fail_open')
    // Logged at most every 10 s: not once per request while Redis is away.
    if (now - rateLimitStats.lastFailOpenAt > 10_000) {
      log('warn', 'rate limiter failing open to the in-isolate limiter', {
        reqId: this.requestId,
        failOpenCount: rateLimitStats.failOpen,
        ...(err ? errorFields(err) : {}),
      })
    }
    rateLimitStats.lastFailOpenAt = now
    return this.rules.map((rule) => localVerdictOf(rule, now))
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
    if (!refused.length) return headers
    const retryAfter = Math.max(1, ...refused.map((v) => Math.ceil((v.reset - now) / 1000)))
    throw new ApiError('rate_limited', `Too many requests; retry in ${retryAfter} s`, {
      headers: { ...headers, 'RateLimit-Remaining': '0', 'Retry-After': String(retryAfter) },
    })
  }
}
