import { z } from 'zod'

/**
 * One config loader for every process. Each schema is the documentation of its
 * variables (README's table mirrors them); a missing or malformed variable stops
 * start-up with its name.
 */
export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

const port = z.coerce.number().int().min(0).max(65535)
const positiveInt = z.coerce.number().int().positive()
const secret = z.string().min(32, 'must be at least 32 characters')
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
const mysqlUrl = z.url({ protocol: /^mysql$/, error: 'must be a mysql:// URL' })

export const originConfigSchema = z.object({
  DATABASE_URL: mysqlUrl.default('mysql://root@127.0.0.1:3306/plaza'),
  DATABASE_REPLICA_URLS: list.pipe(z.array(mysqlUrl)),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  EDGE_SIGNING_SECRET: secret,
  EDGE_SIGNING_SECRET_PREVIOUS: secret.optional(),
  SIGNATURE_WINDOW_SECONDS: positiveInt.default(30),
  ORIGIN_HOST: z.string().default('127.0.0.1'),
  ORIGIN_PORT: port.default(8788),
  /** 0 means one worker per core. */
  ORIGIN_WORKERS: z.coerce.number().int().min(0).default(0),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  READY_TIMEOUT_MS: positiveInt.default(2_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})
export type OriginConfig = z.infer<typeof originConfigSchema>

export const edgeConfigSchema = z.object({
  ORIGIN_URL: z.url({ protocol: /^https?$/ }),
  EDGE_SIGNING_SECRET: secret,
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/ }),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  /** PlanetScale-style URL with read-only credentials: http(s)://user:password@host. */
  DATABASE_READ_URL: z.url({ protocol: /^https?$/ }),
  CORS_ORIGINS: list,
  BODY_LIMIT_BYTES: positiveInt.default(100 * 1024),
  ORIGIN_TIMEOUT_MS: positiveInt.default(10_000),
  HEALTH_TIMEOUT_MS: positiveInt.default(2_000),
})
export type EdgeConfig = z.infer<typeof edgeConfigSchema>

export const standInConfigSchema = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  UPSTASH_HOST: z.string().default('127.0.0.1'),
  UPSTASH_PORT: port.default(8079),
  UPSTASH_TOKEN: z.string().min(16),
  UPSTASH_CONNECTIONS: positiveInt.default(4),
  PLANETSCALE_HOST: z.string().default('127.0.0.1'),
  PLANETSCALE_PORT: port.default(8306),
  /** MariaDB the PlanetScale stand-in executes on; credentials come from each request. */
  PLANETSCALE_MYSQL_URL: mysqlUrl.default('mysql://127.0.0.1:3306/plaza'),
  PLANETSCALE_POOL_SIZE: positiveInt.default(16),
})
export type StandInConfig = z.infer<typeof standInConfigSchema>

/** Parses `env` against `schema`, naming every missing or malformed variable. */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, unknown>,
): z.infer<S> {
  // Empty strings mean "unset", as they do in shells and .env files.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== '' && v !== undefined),
  )
  const parsed = schema.safeParse(cleaned)
  if (parsed.success) return parsed.data
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const name = issue.path.join('.')
      return issue.code === 'invalid_type' && cleaned[name] === undefined
        ? `${name} is required but not set`
        : `${name}: ${issue.message}`
    }),
  )
}
