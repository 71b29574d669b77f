import { ConfigError, type EdgeConfig, edgeConfigSchema, loadConfig } from '../shared/config'
import { setLogLevel } from './log'

export type ParsedConfig = { ok: true; config: EdgeConfig } | { ok: false; problems: string[] }

const parsed = new WeakMap<object, ParsedConfig>()

function parse(env: object): ParsedConfig {
  try {
    const config = loadConfig(edgeConfigSchema, env as Record<string, unknown>)
    setLogLevel(config.LOG_LEVEL)
    return { ok: true, config }
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problems: err.problems }
    throw err
  }
}

/**
 * The edge's config: the Worker's (or the Durable Object's) variables validated once per
 * `env` object. `isNew` tells the first caller, so a bad config is logged once.
 */
export function parseConfig(env: object): ParsedConfig & { isNew: boolean } {
  const cached = parsed.get(env)
  if (cached) return { ...cached, isNew: false }
  const result = parse(env)
  parsed.set(env, result)
  return { ...result, isNew: true }
}

/** The validated config of `env`; throws ConfigError naming bad variables. */
export function configOf(env: object): EdgeConfig {
  const result = parseConfig(env)
  if (!result.ok) throw new ConfigError(result.problems)
  return result.config
}
