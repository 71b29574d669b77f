import { createHash, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import mysql, { type FieldPacket, type PoolConnection, type ResultSetHeader } from 'mysql2/promise'
import { type RunningStandIn, readBody, sendJson, serve } from './http'

/**
 * A stand-in for PlanetScale's HTTP API (`@planetscale/database`) that executes on
 * MariaDB. The Basic-auth credentials of each request are MariaDB credentials, so a
 * read-only user stays read-only here as it would on PlanetScale. A session opened by
 * BEGIN pins one connection until COMMIT/ROLLBACK; an abandoned one is rolled back.
 */
export interface PlanetScaleStandInOptions {
  /** mysql://host:port/database — credentials come from each request. */
  mysqlUrl: string
  host?: string
  port?: number
  poolSize?: number
  /** A pinned transaction idle this long is rolled back and released. */
  sessionIdleMs?: number
}

interface Session {
  id: string
  credentials: string
  connection: PoolConnection
  lastUsed: number
}

// MySQL column type ids → the type names Vitess reports (and the client casts on).
const typeNames: Record<number, string> = {
  0: 'DECIMAL',
  1: 'INT8',
  2: 'INT16',
  3: 'INT32',
  4: 'FLOAT32',
  5: 'FLOAT64',
  6: 'NULL',
  7: 'TIMESTAMP',
  8: 'INT64',
  9: 'INT24',
  10: 'DATE',
  11: 'TIME',
  12: 'DATETIME',
  13: 'YEAR',
  14: 'DATE',
  15: 'VARCHAR',
  16: 'BIT',
  245: 'JSON',
  246: 'DECIMAL',
  247: 'ENUM',
  248: 'SET',
  249: 'BLOB',
  250: 'BLOB',
  251: 'BLOB',
  252: 'BLOB',
  253: 'VARCHAR',
  254: 'CHAR',
  255: 'GEOMETRY',
}
const UNSIGNED = 32
const BINARY_CHARSET = 63

function fieldType(field: FieldPacket): string {
  const id = field.columnType ?? field.type ?? 253
  let name = typeNames[id] ?? 'VARCHAR'
  const flags = typeof field.flags === 'number' ? field.flags : 0
  const binary = field.characterSet === BINARY_CHARSET
  if (field.extendedFormat === 'json') return 'JSON'
  if (name.startsWith('INT') && flags & UNSIGNED) name = `U${name}`
  if (name === 'BLOB') return binary ? 'BLOB' : 'TEXT'
  if (name === 'VARCHAR' && binary) return 'VARBINARY'
  if (name === 'CHAR' && binary) return 'BINARY'
  return name
}

function describeField(field: FieldPacket) {
  return {
    name: field.name,
    type: fieldType(field),
    table: field.table,
    orgTable: field.orgTable,
    database: field.db ?? field.schema,
    orgName: field.orgName,
    columnLength: field.columnLength,
    charset: field.characterSet,
    flags: typeof field.flags === 'number' ? field.flags : 0,
  }
}

/** One row in the wire format: byte lengths (-1 for NULL) and the base64 of the concatenated text bytes. */
function encodeRow(values: Array<Buffer | null>) {
  const lengths = values.map((v) => (v === null ? '-1' : String(v.length)))
  const bytes = Buffer.concat(values.filter((v): v is Buffer => v !== null))
  return { lengths, values: bytes.toString('base64') }
}

const vitessCodes: Record<number, string> = {
  1062: 'ALREADY_EXISTS',
  1064: 'INVALID_ARGUMENT',
  1146: 'NOT_FOUND',
  1142: 'PERMISSION_DENIED',
  1044: 'PERMISSION_DENIED',
  1045: 'UNAUTHENTICATED',
  1205: 'ABORTED',
  1213: 'ABORTED',
}

class StandInError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message)
  }
}

interface MysqlError {
  errno?: number
  sqlState?: string
  code?: string
  message: string
  fatal?: boolean
}

function toStandInError(err: unknown, target: string): StandInError {
  const e = err as MysqlError
  if (e.errno === 1045)
    return new StandInError(`access denied: ${e.message}`, 'UNAUTHENTICATED', 401)
  if (!e.errno || e.fatal) {
    return new StandInError(
      `MariaDB at ${target} is unreachable: ${e.code ?? e.message}`,
      'UNAVAILABLE',
      503,
    )
  }
  const code = vitessCodes[e.errno] ?? 'UNKNOWN'
  return new StandInError(
    `${e.message} (errno ${e.errno}) (sqlstate ${e.sqlState ?? 'HY000'})`,
    code,
    200,
  )
}

const beginRe = /^\s*(BEGIN|START\s+TRANSACTION)\b/i
const endRe = /^\s*(COMMIT|ROLLBACK)\s*(WORK)?\s*;?\s*$/i

export class PlanetScaleStandIn {
  readonly #pools = new Map<string, mysql.Pool>()
  readonly #sessions = new Map<string, Session>()
  readonly #target: URL
  readonly #options: PlanetScaleStandInOptions
  readonly #sweeper: NodeJS.Timeout

  constructor(options: PlanetScaleStandInOptions) {
    this.#options = options
    this.#target = new URL(options.mysqlUrl)
    const idle = options.sessionIdleMs ?? 30_000
    this.#sweeper = setInterval(() => this.#sweep(idle), Math.min(idle, 5_000))
    this.#sweeper.unref()
  }

  get target(): string {
    return `${this.#target.hostname}:${this.#target.port || 3306}`
  }

  #pool(user: string, password: string): { key: string; pool: mysql.Pool } {
    const key = createHash('sha256').update(`${user}\0${password}`).digest('hex')
    let pool = this.#pools.get(key)
    if (!pool) {
      pool = mysql.createPool({
        host: this.#target.hostname,
        port: Number(this.#target.port || 3306),
        database: decodeURIComponent(this.#target.pathname.slice(1)) || undefined,
        user,
        password,
        connectionLimit: this.#options.poolSize ?? 16,
        connectTimeout: 3_000,
        charset: 'utf8mb4',
        timezone: 'Z',
        dateStrings: true,
        supportBigNumbers: true,
        bigNumberStrings: true,
      })
      this.#pools.set(key, pool)
    }
    return { key, pool }
  }

  async #sweep(idleMs: number): Promise<void> {
    const now = Date.now()
    for (const session of this.#sessions.values()) {
      if (now - session.lastUsed > idleMs) await this.#endSession(session, 'ROLLBACK')
    }
  }

  async #endSession(session: Session, statement: 'ROLLBACK' | null): Promise<void> {
    this.#sessions.delete(session.id)
    try {
      if (statement) await session.connection.query(statement)
      session.connection.release()
    } catch {
      session.connection.destroy()
    }
  }

  async execute(
    user: string,
    password: string,
    query: string,
    sessionIn: unknown,
  ): Promise<{ session: { id: string | null }; result: object }> {
    const { key, pool } = this.#pool(user, password)
    const sessionId =
      sessionIn &&
      typeof sessionIn === 'object' &&
      'id' in sessionIn &&
      typeof sessionIn.id === 'string'
        ? sessionIn.id
        : null
    let session = sessionId ? this.#sessions.get(sessionId) : undefined
    if (session && session.credentials !== key) session = undefined
    if (sessionId && !session && !beginRe.test(query)) {
      // The transaction this session pinned is gone (rolled back while idle): say so, never run outside it.
      throw new StandInError(
        'transaction was rolled back after being idle too long',
        'ABORTED',
        200,
      )
    }
    let connection: PoolConnection | undefined = session?.connection
    if (!session && beginRe.test(query)) {
      try {
        connection = await pool.getConnection()
      } catch (err) {
        throw toStandInError(err, this.target)
      }
      session = { id: randomUUID(), credentials: key, connection, lastUsed: Date.now() }
      this.#sessions.set(session.id, session)
    }
    if (session) session.lastUsed = Date.now()
    try {
      const [rows, fields] = await (connection ?? pool).query({
        sql: query,
        rowsAsArray: true,
        typeCast: (field, next) => (field.type === 'GEOMETRY' ? next() : field.buffer()),
      })
      if (session && endRe.test(query)) {
        await this.#endSession(session, null)
        session = undefined
      }
      return { session: { id: session?.id ?? null }, result: encodeResult(rows, fields) }
    } catch (err) {
      if (session && (err as MysqlError).fatal) await this.#endSession(session, null)
      throw toStandInError(err, this.target)
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    for (const session of [...this.#sessions.values()]) await this.#endSession(session, 'ROLLBACK')
    await Promise.all([...this.#pools.values()].map((p) => p.end().catch(() => {})))
  }
}

function encodeResult(rows: unknown, fields: FieldPacket[] | undefined): object {
  if (!Array.isArray(rows)) {
    const header = rows as ResultSetHeader
    return {
      rowsAffected: String(header.affectedRows ?? 0),
      insertId: String(header.insertId ?? 0),
    }
  }
  return {
    fields: (fields ?? []).map(describeField),
    rows: (rows as Array<Array<Buffer | null>>).map(encodeRow),
    rowsAffected: '0',
    insertId: '0',
  }
}

function basicAuth(header: string | undefined): { user: string; password: string } | null {
  if (!header?.startsWith('Basic ')) return null
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 1) return null
  return {
    user: decodeURIComponent(decoded.slice(0, colon)),
    password: decodeURIComponent(decoded.slice(colon + 1)),
  }
}

export function startPlanetScaleStandIn(
  options: PlanetScaleStandInOptions,
): Promise<RunningStandIn> {
  const standIn = new PlanetScaleStandIn(options)
  return serve((req, res) => handle(standIn, req, res), {
    host: options.host,
    port: options.port,
    internalError: (err) => ({ error: { message: String(err), code: 'INTERNAL' } }),
    release: () => standIn.close(),
  })
}

async function handle(
  standIn: PlanetScaleStandIn,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]
  if (req.method !== 'POST')
    return sendJson(res, 405, { error: { message: 'use POST', code: 'UNIMPLEMENTED' } })
  const auth = basicAuth(req.headers.authorization)
  if (!auth)
    return sendJson(res, 401, {
      error: { message: 'missing Basic credentials', code: 'UNAUTHENTICATED' },
    })
  if (path === '/psdb.v1alpha1.Database/CreateSession') {
    await readBody(req)
    return sendJson(res, 200, {
      branch: 'main',
      user: { username: auth.user },
      session: { id: null },
    })
  }
  if (path !== '/psdb.v1alpha1.Database/Execute') {
    return sendJson(res, 404, { error: { message: `unknown method ${path}`, code: 'NOT_FOUND' } })
  }
  let body: { query?: unknown; session?: unknown }
  try {
    body = JSON.parse((await readBody(req)).toString('utf8'))
  } catch {
    return sendJson(res, 400, { error: { message: 'body is not JSON', code: 'INVALID_ARGUMENT' } })
  }
  if (typeof body.query !== 'string' || !body.query.trim()) {
    return sendJson(res, 400, {
      error: { message: 'query must be a non-empty string', code: 'INVALID_ARGUMENT' },
    })
  }
  const started = performance.now()
  try {
    const { session, result } = await standIn.execute(
      auth.user,
      auth.password,
      body.query,
      body.session,
    )
    return sendJson(res, 200, { session, result, timing: (performance.now() - started) / 1000 })
  } catch (err) {
    const e = err instanceof StandInError ? err : new StandInError(String(err), 'INTERNAL', 500)
    return sendJson(res, e.status, {
      session: body.session ?? null,
      error: { message: e.message, code: e.code },
    })
  }
}
