import { z } from 'zod'
import { INGEST_MAX_ITEMS } from './internal/ingest'

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
/** A variable holding JSON, validated against `schema`. */
const jsonVar = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be valid JSON' })
        return z.NEVER
      }
    })
    .pipe(schema)
const ed25519Jwk = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().min(40),
  kid: z.string().min(1, 'every key needs a kid'),
})
const tokenClaims = {
  JWT_ISSUER: z.string().default('plaza'),
  JWT_AUDIENCE: z.string().default('plaza-api'),
}

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
  /** The cluster's Prometheus metrics (GET /metrics), served by the primary on ORIGIN_HOST at this port; 0 turns it off. Never behind the edge. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  /** 0 means one worker per core. */
  ORIGIN_WORKERS: z.coerce.number().int().min(0).default(0),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  READY_TIMEOUT_MS: positiveInt.default(2_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Private Ed25519 JWK (with kid) that signs access tokens. Its public half must be in the edge's JWT_JWKS. */
  JWT_SIGNING_KEY: jsonVar(ed25519Jwk.extend({ d: z.string().min(40) })),
  ...tokenClaims,
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.default(900),
  REFRESH_TOKEN_TTL_DAYS: positiveInt.default(30),
  /** A spent refresh token presented again this soon after its rotation (a retried refresh) gets the same successor instead of revoking the sign-in; 0 turns the grace off. */
  REFRESH_RETRY_GRACE_SECONDS: z.coerce.number().int().min(0).max(60).default(10),
  /** scrypt cost (N, a power of two), block size (r) and parallelism (p) for new password hashes. */
  SCRYPT_COST: positiveInt
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
    .default(32768),
  SCRYPT_BLOCK_SIZE: positiveInt.default(8),
  SCRYPT_PARALLELISM: positiveInt.default(1),
  /** Where CSV exports are kept once made (one file per period and window), and for how long (seed 002: 3600 s). */
  EXPORT_CACHE_DIR: z.string().default(''),
  EXPORT_TTL_SECONDS: positiveInt.default(3_600),
  /** Each worker adds its requests' latencies and errors (per route, per minute) to Redis this often. */
  PERFORMANCE_FLUSH_MS: positiveInt.default(5_000),
  /** The edge's URL, for publishing the event outbox into rooms (signed with EDGE_SIGNING_SECRET); unset, events wait. */
  EDGE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** How often each worker looks for room events to publish (also right after a write queues one). */
  OUTBOX_POLL_MS: positiveInt.default(1_000),
  /** Retention (seed 002): how often a worker tries to run it (one runner at a time, by a MySQL lock); 0 turns it off. */
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** Messages older than this move to messages_archive; 0 archives nothing. */
  RETENTION_ARCHIVE_DAYS: z.coerce.number().int().min(0).default(90),
  /** Messages older than this are deleted, archived or not. */
  RETENTION_DELETE_DAYS: positiveInt.default(365),
  /** Messages moved or deleted per statement, per room. */
  RETENTION_BATCH: positiveInt.max(10_000).default(1_000),
})
export type OriginConfig = z.infer<typeof originConfigSchema>

export const edgeConfigSchema = z
  .object({
    ORIGIN_URL: z.url({ protocol: /^https?$/ }),
    EDGE_SIGNING_SECRET: secret,
    UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/ }),
    UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
    /** PlanetScale-style URL with read-only credentials: http(s)://user:password@host. */
    DATABASE_READ_URL: z.url({ protocol: /^https?$/ }),
    CORS_ORIGINS: list,
    BODY_LIMIT_BYTES: positiveInt.default(100 * 1024),
    ORIGIN_TIMEOUT_MS: positiveInt.default(10_000),
    /** Signs server publishes into rooms (POST /v1/rooms/:id/publish) from customers' backends; unset: only the origin (with EDGE_SIGNING_SECRET) publishes. */
    PUBLISH_SIGNING_SECRET: secret.optional(),
    /** A CSV export streamed from the origin may take this long (a million rows is seconds). */
    EXPORT_TIMEOUT_MS: positiveInt.default(300_000),
    HEALTH_TIMEOUT_MS: positiveInt.default(2_000),
    /** The edge's log lines below this level are dropped (`silent` mutes it). */
    LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    /** Public keys that may have signed an access token: the current one and, while rotating, the next or previous. */
    JWT_JWKS: jsonVar(z.object({ keys: z.array(ed25519Jwk).min(1) })),
    ...tokenClaims,
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: positiveInt.default(100),
    RATE_LIMIT_USER_PER_MINUTE: positiveInt.default(600),
    /** Sign-in and sign-up attempts per client IP, and per email, in 15 minutes. */
    RATE_LIMIT_AUTH_PER_15_MINUTES: positiveInt.default(10),
    /** Sign-in and sign-up attempts per email from all IPs together in 15 minutes: a looser ceiling, so strangers cannot lock an owner out. */
    RATE_LIMIT_AUTH_PER_EMAIL_15_MINUTES: positiveInt.default(100),
    /** Per-route overrides, e.g. {"GET /v1/profiles": 300}: requests per minute for that route. */
    RATE_LIMIT_ROUTES: jsonVar(
      z.record(z.string().regex(/^[A-Z]+ \/\S*$/), z.number().int().positive()),
    ).default({}),
    /** Circuit breakers (Redis, the database, the origin): this many failures in a row open one… */
    BREAKER_FAILURES: positiveInt.default(5),
    /** …and for this long calls to that dependency fail at once, before one is let through to test it. */
    BREAKER_HALF_OPEN_MS: positiveInt.default(5_000),
    /** A rate-limit check that takes longer lets the request through rather than stall it. */
    RATE_LIMIT_TIMEOUT_MS: positiveInt.default(200),
    CACHE_TTL_PROFILE_SECONDS: positiveInt.default(300),
    CACHE_TTL_PROFILE_LIST_SECONDS: positiveInt.default(60),
    /** How long past its TTL an entry may still be served (x-cache: STALE) when the database cannot answer. */
    CACHE_STALE_SECONDS: positiveInt.default(86_400),
    /** With Redis unreachable, a read is served (STALE) from the isolate's own copy if that copy was confirmed current within this many seconds; 0: never. */
    CACHE_LOCAL_STALE_SECONDS: z.coerce.number().int().min(0).default(60),
    /** Memory each isolate gives those copies (least recently confirmed dropped first). */
    CACHE_LOCAL_MAX_BYTES: positiveInt.default(8_388_608),
    CACHE_TTL_ROOM_SECONDS: positiveInt.default(300),
    CACHE_TTL_ROOM_LIST_SECONDS: positiveInt.default(30),
    /** Full pages of history never change; they live this long. */
    /** The admin dashboard's metrics: cached this long at the edge (seed 002: 300 s)… */
    DASHBOARD_METRICS_TTL_SECONDS: positiveInt.default(300),
    /** …and asked at most this often per user per minute (seed 002: 10). */
    DASHBOARD_METRICS_PER_MINUTE: positiveInt.default(10),
    /** A room's message statistics: cached this long (seed 002: 600 s) and asked this often per user a minute (20). */
    DASHBOARD_STATS_TTL_SECONDS: positiveInt.default(600),
    DASHBOARD_STATS_PER_MINUTE: positiveInt.default(20),
    /** Recent activity (admins): cached this long (seed 002: 120 s), asked this often per user a minute (30). */
    DASHBOARD_ACTIVITY_TTL_SECONDS: positiveInt.default(120),
    DASHBOARD_ACTIVITY_PER_MINUTE: positiveInt.default(30),
    /** CSV exports (admins) asked at most this often per user a minute (seed 002: 5); the origin caches them (EXPORT_TTL_SECONDS). */
    DASHBOARD_EXPORT_PER_MINUTE: positiveInt.default(5),
    /** Latency and errors per route (admins): never cached; asked at most this often per user a minute. */
    DASHBOARD_PERFORMANCE_PER_MINUTE: positiveInt.default(30),
    /** Rankings and user stats: cached this long (seed 003: 300 s). */
    RANKINGS_TTL_SECONDS: positiveInt.default(300),
    CACHE_TTL_HISTORY_SECONDS: positiveInt.default(7 * 86_400),
    /** Largest message body, UTF-8 bytes: a larger one gets an error frame (HTTP 413). */
    ROOM_MAX_BODY_BYTES: positiveInt.default(4096),
    /** One replay (a reconnect with lastSeq, or `resume`) sends at most this many messages; older ones come as a `gap` to page. */
    ROOM_REPLAY_MAX_MESSAGES: positiveInt.default(1_000),
    /** …and at most about this many bytes; the rest comes as a trailing `gap`. */
    ROOM_REPLAY_MAX_BYTES: positiveInt.default(1_048_576),
    /**
     * What one socket may owe: bytes sent to it past the last `mark` it echoed. A socket that
     * stops reading is closed (4408) there, so it makes the room hold at most this much.
     * Must exceed ROOM_REPLAY_MAX_BYTES (a replay is sent at once).
     */
    ROOM_SOCKET_MAX_UNREAD_BYTES: positiveInt.default(4_194_304),
    /** A socket may `resume` at most once per this many ms; more often is refused (`rate_limited`). */
    ROOM_RESUME_INTERVAL_MS: positiveInt.default(1_000),
    /** Largest WebSocket frame the room reads; a larger one closes the socket with 1009. */
    ROOM_MAX_FRAME_BYTES: positiveInt.default(16_384),
    /** Flood control per connection: a token bucket of this many frames per second… */
    ROOM_FLOOD_PER_SECOND: positiveInt.default(20),
    /** …holding this many; past empty, frames are refused, and a second bucket's worth more closes with 4429. */
    ROOM_FLOOD_BURST: positiveInt.default(40),
    /** Sends per second one user may make in a room across all their sockets (and HTTP)… */
    ROOM_USER_SENDS_PER_SECOND: positiveInt.default(20),
    /** …and in a burst; past it a send is refused (`rate_limited`, retryable). */
    ROOM_USER_SENDS_BURST: positiveInt.default(40),
    /** Open sockets one user may hold in one room; one more is closed with 4429. */
    ROOM_MAX_SOCKETS_PER_USER: positiveInt.default(10),
    /** Messages waiting for the origin, at most; when full, sends get `unavailable` instead of an ack. */
    ROOM_OUTBOX_LIMIT: positiveInt.default(10_000),
    /** Recent messages each room keeps (besides its outbox) to replay on reconnect. */
    ROOM_WINDOW: positiveInt.default(1_000),
    /** Messages per hand-over from a room to its relay. */
    ROOM_SHIP_BATCH: positiveInt.default(500),
    /** How long a room gathers messages before handing them to its relay. */
    ROOM_SHIP_DELAY_MS: z.coerce.number().int().min(0).default(1_000),
    /** How long after a hand-over a room first asks its relay whether its messages have landed in MySQL. */
    ROOM_LANDED_CHECK_MS: positiveInt.default(1_000),
    /** A room's fallback alarm while messages are on their way (its timers die if it is evicted). */
    ROOM_SHIP_SAFETY_MS: positiveInt.default(30_000),
    /** Longest wait between retries (rooms handing over, relays shipping) while something is down. */
    ROOM_SHIP_MAX_BACKOFF_MS: positiveInt.default(30_000),
    /** Relays: each gathers many rooms' messages and ships them to MySQL together; rooms pick one by id. */
    RELAY_COUNT: positiveInt.default(2),
    /**
     * Which process of a self-hosted edge this is (set by `PLAZA_EDGE_PROCESSES`): each
     * process has relays of its own, named apart so their signals do not overwrite each other.
     */
    EDGE_NODE: z
      .string()
      .regex(/^[a-z0-9-]{0,32}$/, 'lowercase letters, digits and dashes, at most 32')
      .default(''),
    /** How long a relay gathers before it ships (at once when RELAY_BATCH are waiting). */
    RELAY_GATHER_MS: z.coerce.number().int().min(0).default(200),
    /** Messages per shipment from a relay to the origin, all rooms together. */
    RELAY_BATCH: positiveInt.max(INGEST_MAX_ITEMS).default(2_000),
    /** Shipments one relay has in flight at once while it drains a backlog. */
    RELAY_SHIP_CONCURRENCY: positiveInt.default(2),
    /** Messages one relay holds at most; past it, rooms keep theirs (and their own bound applies). */
    RELAY_MAX_HELD: positiveInt.default(500_000),
    /** …and bytes (bodies and bookkeeping): a relay holds them in memory, beside everything else in its isolate. */
    RELAY_MAX_HELD_BYTES: positiveInt.default(32 * 1024 * 1024),
    /**
     * Rooms report their signals (sockets, messages, replays) to their relay, and relays
     * write them with their own (outbox depth and age, shipments) to Redis, at most this
     * often (shared/room-signals.ts); 0 turns the reports off.
     */
    SIGNALS_INTERVAL_MS: z.coerce.number().int().min(0).default(10_000),
    /**
     * Broadcast coalescing: after a flush, frames wait until this many ms have passed before
     * the next one, so a busy room sends one WebSocket message per socket per interval
     * instead of one per chat message. An idle room flushes at once.
     */
    ROOM_BROADCAST_INTERVAL_MS: z.coerce.number().int().min(0).default(15),
    /**
     * Presence lists at most this many users (welcome, presence API); in a room with more
     * online, joins and leaves are no longer sent one by one, only the count.
     */
    ROOM_PRESENCE_LIST_MAX: positiveInt.default(200),
    /** Past the list limit, the online count is broadcast at most once per this many ms. */
    ROOM_PRESENCE_COUNT_INTERVAL_MS: positiveInt.default(1_000),
    /** At most one typing event per user per this many ms. */
    ROOM_TYPING_INTERVAL_MS: positiveInt.default(2_000),
  })
  .refine((c) => c.ROOM_SOCKET_MAX_UNREAD_BYTES > c.ROOM_REPLAY_MAX_BYTES, {
    path: ['ROOM_SOCKET_MAX_UNREAD_BYTES'],
    message:
      'must exceed ROOM_REPLAY_MAX_BYTES: a replay is sent at once, before any mark can be echoed',
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
