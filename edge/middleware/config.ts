import type { MiddlewareHandler } from 'hono'
import { ConfigError, type EdgeConfig, edgeConfigSchema, loadConfig } from '../../shared/config'
import { ApiError } from '../../shared/errors'
import type { AppEnv } from '../env'
import { log } from '../log'

const parsed = new WeakMap<object, ReturnType<typeof parse>>()

function parse(env: object) {
  try {
    return {
      ok: true as const,
      config: loadConfig(edgeConfigSchema, env as Record<string, unknown>),
    }
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false as const, problems: err.problems }
    throw err
  }
}

/** The validated config of `env`, parsed once; throws ConfigError naming bad variables. */
export function configOf(env: object): EdgeConfig {
  let result = parsed.get(env)
  if (!result) {
    result = parse(env)
    parsed.set(env, result)
  }
  if (!result.ok) throw new ConfigError(result.problems)
  return result.config
}

/**
 * Validates the Worker's variables once per isolate and exposes them as `c.var.config`.
 * A Worker has no start-up hook, so a bad variable answers 500 naming it (and logs it)
 * instead of failing somewhere deeper.
 */
export function edgeConfig(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let result = parsed.get(c.env)
    if (!result) {
      result = parse(c.env)
      parsed.set(c.env, result)
      if (!result.ok) log('error', 'invalid edge configuration', { problems: result.problems })
    }
    if (!result.ok) {
      throw new ApiError('internal', 'The edge is misconfigured', {
        details: { problems: result.problems },
      })
    }
    c.set('config', result.config)
    await next()
  }
}
