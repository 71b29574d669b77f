import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Redis, ReplyError } from 'ioredis'
import { type RunningStandIn, readBody, sendJson, serve } from './http'

/**
 * A stand-in for Upstash's REST API in front of a real Redis, so `@upstash/redis` and
 * `@upstash/ratelimit` run unchanged on a laptop. Protocol: `POST /` with a command array,
 * `POST /pipeline` and `POST /multi-exec` with arrays of them, bearer auth, replies
 * `{result}` / `{error}`, and base64 strings under `Upstash-Encoding: base64`.
 */
export interface UpstashStandInOptions {
  redisUrl: string
  token: string
  host?: string
  port?: number
  /** Redis connections to spread commands over; each one pipelines on its own. */
  connections?: number
}

type Arg = string
type Reply = Buffer | number | null | Reply[] | Error

const unsupported = new Set([
  'SUBSCRIBE',
  'PSUBSCRIBE',
  'SSUBSCRIBE',
  'UNSUBSCRIBE',
  'PUNSUBSCRIBE',
  'MONITOR',
  'SELECT',
  'QUIT',
  'RESET',
  'SHUTDOWN',
  'MULTI',
  'EXEC',
  'DISCARD',
  'WATCH',
  'UNWATCH',
  'SYNC',
  'PSYNC',
])
/** Commands that can hold a connection for seconds: each gets its own. */
const blocking = new Set([
  'BLPOP',
  'BRPOP',
  'BLMOVE',
  'BRPOPLPUSH',
  'BZPOPMIN',
  'BZPOPMAX',
  'BLMPOP',
  'BZMPOP',
  'WAIT',
])

class CommandError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

/**
 * Upstash's scripts start `#!lua flags=allow-key-locking`, a flag Redis 7.0 rejects.
 * Drop that flag; keep the rest of the shebang so line numbers and other flags hold.
 */
function rewriteScript(script: string): string {
  const match = /^#!lua([^\n]*)/.exec(script)
  if (!match) return script
  const flags = /flags=([^\s]*)/.exec(match[1] ?? '')
  if (!flags) return script
  const kept = (flags[1] ?? '').split(',').filter((f) => f && f !== 'allow-key-locking')
  const shebang = kept.length ? `#!lua flags=${kept.join(',')}` : '#!lua'
  return shebang + script.slice(match[0].length)
}

export class UpstashStandIn {
  readonly #connections: Redis[]
  readonly #redisUrl: string
  readonly #token: Buffer
  readonly #lastError = new WeakMap<Redis, string>()
  /** Client script hash → hash of the rewritten script Redis actually holds. */
  readonly #scriptHashes = new Map<string, string>()
  #next = 0

  constructor(options: Pick<UpstashStandInOptions, 'redisUrl' | 'token' | 'connections'>) {
    this.#redisUrl = options.redisUrl
    this.#token = Buffer.from(options.token)
    this.#connections = Array.from({ length: options.connections ?? 4 }, () => this.#connect())
  }

  #connect(): Redis {
    const redis = new Redis(this.#redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      lazyConnect: false,
    })
    redis.on('error', (err) => this.#lastError.set(redis, err.message))
    redis.on('ready', () => this.#lastError.delete(redis))
    return redis
  }

  async #pick(): Promise<Redis> {
    const start = this.#next++ % this.#connections.length
    for (let i = 0; i < this.#connections.length; i++) {
      const redis = this.#connections[(start + i) % this.#connections.length]!
      if (redis.status === 'ready') return redis
    }
    const redis = this.#connections[start]!
    // Still connecting (start-up, or Redis just came back): wait a moment rather than fail.
    if (
      !this.#lastError.has(redis) &&
      (redis.status === 'connecting' || redis.status === 'connect')
    ) {
      const ready = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 1_000)
        redis.once('ready', () => {
          clearTimeout(timer)
          resolve(true)
        })
      })
      if (ready) return redis
    }
    const why = this.#lastError.get(redis) ?? `connection is ${redis.status}`
    throw new CommandError(`Redis at ${this.#redisUrl} is unreachable: ${why}`, 503)
  }

  authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Bearer ')) return false
    const given = Buffer.from(header.slice(7))
    return given.length === this.#token.length && timingSafeEqual(given, this.#token)
  }

  /** Validates a command array and applies the script-hash mapping. */
  #prepare(raw: unknown): [string, Arg[]] {
    if (!Array.isArray(raw) || raw.length === 0)
      throw new CommandError('ERR command must be a non-empty array', 400)
    const [head, ...rest] = raw
    if (typeof head !== 'string') throw new CommandError('ERR command name must be a string', 400)
    const name = head.toUpperCase()
    if (unsupported.has(name)) throw new CommandError(`ERR ${name} is not supported over REST`, 400)
    const args = rest.map((a): string =>
      typeof a === 'string'
        ? a
        : a === null
          ? ''
          : typeof a === 'object'
            ? JSON.stringify(a)
            : String(a),
    )
    if ((name === 'EVAL' || name === 'EVAL_RO') && args[0] !== undefined) {
      const rewritten = rewriteScript(args[0])
      if (rewritten !== args[0]) this.#scriptHashes.set(sha1(args[0]), sha1(rewritten))
      args[0] = rewritten
    } else if ((name === 'EVALSHA' || name === 'EVALSHA_RO') && args[0] !== undefined) {
      args[0] = this.#scriptHashes.get(args[0].toLowerCase()) ?? args[0]
    } else if (name === 'SCRIPT' && args[0]?.toUpperCase() === 'EXISTS') {
      for (let i = 1; i < args.length; i++)
        args[i] = this.#scriptHashes.get(args[i]!.toLowerCase()) ?? args[i]!
    }
    return [name, args]
  }

  async command(raw: unknown): Promise<Reply> {
    const [name, args] = this.#prepare(raw)
    if (name === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD' && args[1] !== undefined) {
      // Answer with the hash of the client's own script, as Upstash would.
      const rewritten = rewriteScript(args[1])
      await this.#run(await this.#pick(), name, ['LOAD', rewritten])
      const clientHash = sha1(args[1])
      this.#scriptHashes.set(clientHash, sha1(rewritten))
      return Buffer.from(clientHash)
    }
    if (blocking.has(name)) {
      await this.#pick() // fail fast, with the reason, when Redis is down
      const dedicated = new Redis(this.#redisUrl, {
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      })
      dedicated.on('error', () => {})
      try {
        return await this.#run(dedicated, name, args)
      } finally {
        dedicated.disconnect()
      }
    }
    return this.#run(await this.#pick(), name, args)
  }

  async #run(redis: Redis, name: string, args: Arg[]): Promise<Reply> {
    try {
      return (await redis.callBuffer(name, ...args)) as Reply
    } catch (err) {
      throw toCommandError(err, this.#redisUrl)
    }
  }

  async pipeline(
    raw: unknown,
    transaction: boolean,
  ): Promise<Array<{ result: Reply } | { error: string }>> {
    if (!Array.isArray(raw) || raw.length === 0)
      throw new CommandError('ERR pipeline must be a non-empty array', 400)
    const commands = raw.map((c) => this.#prepare(c))
    const redis = await this.#pick()
    const batch = transaction ? redis.multi() : redis.pipeline()
    for (const [name, args] of commands) batch.callBuffer(name, ...args)
    let replies: Array<[Error | null, unknown]> | null
    try {
      replies = await batch.exec()
    } catch (err) {
      throw toCommandError(err, this.#redisUrl)
    }
    if (!replies) throw new CommandError('EXECABORT Transaction discarded', 400)
    return replies.map(([err, result]) =>
      err ? { error: err.message } : { result: result as Reply },
    )
  }

  async close(): Promise<void> {
    await Promise.all(this.#connections.map((r) => r.quit().catch(() => r.disconnect())))
  }
}

function toCommandError(err: unknown, redisUrl: string): CommandError {
  if (err instanceof CommandError) return err
  if (err instanceof ReplyError) return new CommandError((err as Error).message, 400)
  const message = err instanceof Error ? err.message : String(err)
  if (/EXECABORT/.test(message)) return new CommandError(message, 400)
  return new CommandError(`Redis at ${redisUrl} is unreachable: ${message}`, 503)
}

function encode(reply: Reply, base64: boolean): unknown {
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString('base64') : reply.toString('utf8')
  if (Array.isArray(reply)) return reply.map((r) => encode(r, base64))
  if (reply instanceof Error) return { error: reply.message }
  return reply
}

export function startUpstashStandIn(options: UpstashStandInOptions): Promise<RunningStandIn> {
  const standIn = new UpstashStandIn(options)
  return serve((req, res) => handle(standIn, req, res), {
    host: options.host,
    port: options.port,
    internalError: (err) => ({ error: String(err) }),
    release: () => standIn.close(),
  })
}

async function handle(
  standIn: UpstashStandIn,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!standIn.authorized(req.headers.authorization)) {
    return sendJson(res, 401, { error: 'Unauthorized: missing or wrong bearer token' })
  }
  const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64'
  const path = (req.url ?? '/').split('?')[0]!
  let body: unknown = null
  const raw = await readBody(req)
  if (raw.length) {
    try {
      body = JSON.parse(raw.toString('utf8'))
    } catch {
      return sendJson(res, 400, { error: 'ERR request body is not valid JSON' })
    }
  }
  try {
    if (path === '/pipeline' || path === '/multi-exec') {
      const replies = await standIn.pipeline(body, path === '/multi-exec')
      return sendJson(
        res,
        200,
        replies.map((r) => ('error' in r ? r : { result: encode(r.result, base64) })),
      )
    }
    // `POST /` carries the command in the body; `/get/key` style puts it in the path.
    const fromPath = path
      .split('/')
      .filter(Boolean)
      .map((s) => decodeURIComponent(s))
    const command = fromPath.length ? fromPath : body
    const reply = await standIn.command(command)
    return sendJson(res, 200, { result: encode(reply, base64) })
  } catch (err) {
    const status = err instanceof CommandError ? err.status : 500
    return sendJson(res, status, { error: err instanceof Error ? err.message : String(err) })
  }
}
