import type { EdgeConfig } from '../../shared/config'

export interface Rule {
  /** Bucket name: what is counted (ip, user, auth-ip, auth-email, or a route). */
  name: string
  identifier: string
  limit: number
  windowSeconds: number
}

export interface RequestFacts {
  ip: string
  /** Empty when anonymous. */
  userId: string
  /** "METHOD /route/:pattern", as RATE_LIMIT_ROUTES names routes. */
  route: string
  /** For sign-in and sign-up: the email the body names, if any. */
  email?: string | null
}

/** Routes with their own per-user limit unless RATE_LIMIT_ROUTES names them (the seeds' numbers). */
function routeDefaults(config: EdgeConfig): Record<string, number> {
  return {
    'GET /v1/dashboard/metrics': config.DASHBOARD_METRICS_PER_MINUTE,
    'GET /v1/dashboard/messages/stats': config.DASHBOARD_STATS_PER_MINUTE,
    'GET /v1/dashboard/recent-activity': config.DASHBOARD_ACTIVITY_PER_MINUTE,
    'GET /v1/dashboard/export': config.DASHBOARD_EXPORT_PER_MINUTE,
    'GET /v1/dashboard/performance': config.DASHBOARD_PERFORMANCE_PER_MINUTE,
  }
}

/**
 * Which buckets a request counts against: the route's override, else per user when signed
 * in, per IP otherwise; sign-in and sign-up also per IP and per email over 15 minutes.
 */
export function rulesFor(config: EdgeConfig, facts: RequestFacts, auth: boolean): Rule[] {
  const { ip, userId, route } = facts
  const subject = userId ? `user:${userId}` : `ip:${ip}`
  const override = config.RATE_LIMIT_ROUTES[route] ?? routeDefaults(config)[route]
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
    // A stranger's guesses must not lock the owner out: the tight limits are per IP and per
    // (email, IP); across IPs an email only has a much looser ceiling against spraying.
    const perWindow = config.RATE_LIMIT_AUTH_PER_15_MINUTES
    const quarterHour = (name: string, identifier: string, limit: number): Rule => ({
      name,
      identifier,
      limit,
      windowSeconds: 900,
    })
    rules.push(quarterHour('auth-ip', ip, perWindow))
    if (facts.email) {
      rules.push(quarterHour('auth-email-ip', `${facts.email}|${ip}`, perWindow))
      rules.push(
        quarterHour('auth-email', facts.email, config.RATE_LIMIT_AUTH_PER_EMAIL_15_MINUTES),
      )
    }
  }
  return rules
}
