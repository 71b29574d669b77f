import { DurableObject } from 'cloudflare:workers'
import type { IngestBody } from '../shared/api'
import type { EdgeConfig } from '../shared/config'
import { newId } from '../shared/ids'
import {
  type ClientFrame,
  clientFrame,
  closeCodes,
  type MessageDto,
  type MessageFrame,
  PING,
  PONG,
  PROTOCOL,
  type PresenceUser,
  type ServerFrame,
} from '../shared/protocol'
import { signRequest } from '../shared/signature'
import type { Env } from './env'
import { errorFields, log } from './log'
import { configOf } from './middleware/config'

/** What each socket carries through hibernation (serializeAttachment): who it is, until when. */
interface Attachment {
  user: PresenceUser
  /** Access token expiry, unix seconds: frames after it close the socket with 4401. */
  exp: number
}

/** The edge tells the room who connects, in headers only the edge can set (the DO is not public). */
export const roomHeaders = {
  room: 'x-plaza-room',
  userId: 'x-plaza-user-id',
  userName: 'x-plaza-user-name',
  tokenExp: 'x-plaza-token-exp',
  lastSeq: 'x-plaza-last-seq',
} as const

export type SendResult =
  | { ok: true; ack: { clientMsgId: string; seq: number; id: string } }
  | { ok: false; code: 'unavailable' | 'payload_too_large'; message: string }

interface Row {
  seq: number
  id: string
  author: string
  client_msg_id: string | null
  body: string
  created_at: number
  [key: string]: SqlStorageValue
}

const SENT_RETENTION_MS = 24 * 3600 * 1000
const encoder = new TextEncoder()

/** UTF-8 length, skipping the encoding when the UTF-16 length already decides against `max`. */
function fitsIn(s: string, max: number): boolean {
  if (s.length > max) return false
  if (s.length * 3 <= max) return true
  return encoder.encode(s).byteLength <= max
}

function toFrame(r: Row): MessageFrame {
  const frame: MessageFrame = {
    type: 'message',
    seq: r.seq,
    id: r.id,
    author: r.author,
    body: r.body,
    createdAt: new Date(r.created_at).toISOString(),
  }
  if (r.client_msg_id) frame.clientMsgId = r.client_msg_id
  return frame
}

/**
 * One Durable Object per room: the room's serialization point (DESIGN §1–§3).
 *
 * A send is checked, numbered (gapless `seq`), written to the room's SQLite storage, acked
 * and broadcast; the storage write commits before any of the room's output leaves (the
 * output gate), so an ack is never ahead of durability. Messages wait in the outbox (rows
 * with `shipped = 0`) until an alarm ships them to the origin in batches, retrying with
 * backoff. Broadcasts are batched: frames queued within one turn of the event loop (or,
 * in a busy room, within ROOM_BROADCAST_INTERVAL_MS of the last flush) go out as one
 * WebSocket message per socket, serialized once. Sockets use the hibernation API;
 * everything the room needs after waking is in storage or the sockets' attachments.
 */
export class Room extends DurableObject<Env> {
  private readonly config: EdgeConfig
  private roomId = ''
  private seq = 0
  /** Highest seq already handed to the sockets; replays stop here, the pending flush does the rest. */
  private broadcastSeq = 0
  private unshipped = 0
  private pending: ServerFrame[] = []
  private flushQueued = false
  private lastFlush = 0
  private alarmSet: boolean | undefined
  private readonly buckets = new WeakMap<WebSocket, { tokens: number; at: number }>()
  /** Attachments read once per socket per wake, not deserialized again for every frame. */
  private readonly attachments = new WeakMap<WebSocket, Attachment | null>()
  private readonly lastTyping = new Map<string, number>()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.config = configOf(env)
    const sql = ctx.storage.sql
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS messages (
      seq INTEGER PRIMARY KEY, id TEXT NOT NULL, author TEXT NOT NULL, client_msg_id TEXT,
      body TEXT NOT NULL, created_at INTEGER NOT NULL, shipped INTEGER NOT NULL DEFAULT 0)`)
    sql.exec(`CREATE INDEX IF NOT EXISTS messages_outbox ON messages (shipped, seq)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS sent (
      author TEXT NOT NULL, client_msg_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
      at INTEGER NOT NULL, PRIMARY KEY (author, client_msg_id))`)
    sql.exec(`CREATE INDEX IF NOT EXISTS sent_at ON sent (at)`)
    sql.exec(`CREATE TABLE IF NOT EXISTS reads (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)`)
    this.roomId = this.meta('room') ?? ''
    // Counts constructions: after hibernation or eviction a fresh instance starts here.
    this.setMeta('wakes', Number(this.meta('wakes') ?? 0) + 1)
    this.seq = Number(this.meta('seq') ?? 0)
    this.broadcastSeq = this.seq
    this.unshipped = this.countUnshipped()
    // Heartbeats are answered by the runtime without waking the room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG))
  }

  // ---- storage helpers -------------------------------------------------------------

  private meta(key: string): string | undefined {
    const rows = this.ctx.storage.sql
      .exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)
      .toArray()
    return rows[0]?.value
  }

  private setMeta(key: string, value: string | number): void {
    this.ctx.storage.sql.exec(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      key,
      String(value),
    )
  }

  private countUnshipped(): number {
    return this.ctx.storage.sql
      .exec<{ n: number }>('SELECT count(*) AS n FROM messages WHERE shipped = 0')
      .one().n
  }

  /** The oldest seq the room still holds (everything below it is in MySQL). */
  private lowestHeld(): number {
    const row = this.ctx.storage.sql
      .exec<{ lo: number | null }>('SELECT min(seq) AS lo FROM messages')
      .one()
    return row.lo ?? this.seq + 1
  }

  private bind(roomId: string): void {
    if (this.roomId === roomId) return
    if (this.roomId) throw new Error(`room object for ${this.roomId} addressed as ${roomId}`)
    this.roomId = roomId
    this.setMeta('room', roomId)
  }

  // ---- the edge's entry points ------------------------------------------------------

  /** WebSocket upgrade; the edge has checked the token and membership and says who it is. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return Response.json(
        { error: { code: 'bad_request', message: 'Expected a WebSocket upgrade' } },
        { status: 426 },
      )
    }
    const h = request.headers
    this.bind(h.get(roomHeaders.room) ?? '')
    const user: PresenceUser = {
      id: h.get(roomHeaders.userId) ?? '',
      name: decodeURIComponent(h.get(roomHeaders.userName) ?? ''),
    }
    const exp = Number(h.get(roomHeaders.tokenExp) ?? 0)
    const lastSeqHeader = h.get(roomHeaders.lastSeq)

    const pair = new WebSocketPair()
    const [client, server] = [pair[0], pair[1]]
    const firstOfUser = this.socketsOf(user.id).length === 0
    this.ctx.acceptWebSocket(server, [user.id])
    const attachment: Attachment = { user, exp }
    server.serializeAttachment(attachment)
    this.attachments.set(server, attachment)
    this.buckets.set(server, { tokens: this.config.ROOM_FLOOD_BURST, at: Date.now() })

    // Deliver what is queued first, so the welcome's seq and the live stream line up.
    this.flush()
    this.sendTo(server, {
      type: 'welcome',
      room: this.roomId,
      seq: this.seq,
      you: user,
      presence: this.presence(),
      limits: {
        framesPerSecond: this.config.ROOM_FLOOD_PER_SECOND,
        burst: this.config.ROOM_FLOOD_BURST,
        maxBodyBytes: this.config.ROOM_MAX_BODY_BYTES,
        maxFrameBytes: this.config.ROOM_MAX_FRAME_BYTES,
      },
    })
    if (lastSeqHeader !== null) this.replay(server, Number(lastSeqHeader))
    if (firstOfUser) this.broadcast({ type: 'presence', event: 'joined', user }, server)

    const protocols = h.get('sec-websocket-protocol')
    const headers = new Headers()
    if (protocols?.split(',').some((p) => p.trim() === PROTOCOL))
      headers.set('sec-websocket-protocol', PROTOCOL)
    return new Response(null, { status: 101, webSocket: client, headers })
  }

  /** The HTTP send path: the same checks, numbering and durability as a WebSocket send. */
  async post(roomId: string, user: PresenceUser, clientMsgId: string, body: string) {
    this.bind(roomId)
    const result = this.accept(user, clientMsgId, body)
    this.flush()
    return result
  }

  /** History the room still holds, for the edge to merge with MySQL's. */
  async history(
    roomId: string,
    q: { before?: number; after?: number; limit: number },
  ): Promise<{ items: MessageDto[]; lowestHeld: number }> {
    this.bind(roomId)
    const lowestHeld = this.lowestHeld()
    const forward = q.after !== undefined
    const rows = this.ctx.storage.sql
      .exec<Row>(
        `SELECT seq, id, author, client_msg_id, body, created_at FROM messages
         WHERE seq > ? AND seq < ? ORDER BY seq ${forward ? 'ASC' : 'DESC'} LIMIT ?`,
        q.after ?? 0,
        q.before ?? Number.MAX_SAFE_INTEGER,
        q.limit,
      )
      .toArray()
    if (!forward) rows.reverse()
    const items = rows.map((r) => ({
      seq: r.seq,
      id: r.id,
      author: r.author,
      body: r.body,
      createdAt: new Date(r.created_at).toISOString(),
      clientMsgId: r.client_msg_id,
    }))
    return { items, lowestHeld }
  }

  async presenceOf(roomId: string): Promise<{ room: string; users: PresenceUser[] }> {
    this.bind(roomId)
    return { room: roomId, users: this.presence() }
  }

  /** Read markers are coalesced here and shipped with the outbox. */
  async markRead(roomId: string, userId: string, seq: number): Promise<void> {
    this.bind(roomId)
    this.recordRead(userId, Math.min(seq, this.seq))
  }

  /** Closes a user's sockets (they left, or were removed from, a private room). */
  async kick(roomId: string, userId: string): Promise<number> {
    this.bind(roomId)
    const sockets = this.socketsOf(userId)
    for (const ws of sockets) {
      this.sendTo(ws, {
        type: 'error',
        code: 'unauthorized',
        message: 'You are no longer a member of this room',
      })
      this.close(ws, closeCodes.forbidden, 'no longer a member')
    }
    return sockets.length
  }

  /** For tests and operators: the room's own bookkeeping. */
  async stats(roomId: string) {
    this.bind(roomId)
    return {
      seq: this.seq,
      unshipped: this.unshipped,
      lowestHeld: this.lowestHeld(),
      sockets: this.ctx.getWebSockets().length,
      shipAttempt: Number(this.meta('shipAttempt') ?? 0),
      wakes: Number(this.meta('wakes') ?? 0),
      presence: this.presence(),
    }
  }

  // ---- sockets ----------------------------------------------------------------------

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const max = this.config.ROOM_MAX_FRAME_BYTES
    if (typeof message === 'string' ? !fitsIn(message, max) : message.byteLength > max) {
      this.close(
        ws,
        closeCodes.tooLarge,
        `frame larger than ${this.config.ROOM_MAX_FRAME_BYTES} bytes`,
      )
      return
    }
    const att = this.attachmentOf(ws)
    if (!att || att.exp * 1000 < Date.now()) {
      this.close(ws, closeCodes.unauthorized, 'access token expired')
      return
    }
    if (!this.takeToken(ws)) return
    if (typeof message !== 'string') {
      this.sendTo(ws, { type: 'error', code: 'bad_frame', message: 'Frames are JSON text' })
      return
    }
    let frame: ClientFrame
    try {
      const parsed = clientFrame.safeParse(JSON.parse(message))
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        throw new Error(`${issue?.path.join('.') || 'frame'}: ${issue?.message ?? 'invalid'}`)
      }
      frame = parsed.data
    } catch (err) {
      this.sendTo(ws, {
        type: 'error',
        code: 'bad_frame',
        message: `Bad frame: ${err instanceof SyntaxError ? 'not JSON' : (err as Error).message}`,
      })
      return
    }
    switch (frame.type) {
      case 'send': {
        const result = this.accept(att.user, frame.clientMsgId, frame.body)
        this.sendTo(
          ws,
          result.ok
            ? { type: 'ack', ...result.ack }
            : {
                type: 'error',
                code: result.code,
                message: result.message,
                clientMsgId: frame.clientMsgId,
              },
        )
        return
      }
      case 'typing': {
        const now = Date.now()
        const last = this.lastTyping.get(att.user.id) ?? 0
        if (now - last < this.config.ROOM_TYPING_INTERVAL_MS) return
        this.lastTyping.set(att.user.id, now)
        this.broadcast({ type: 'typing', user: att.user }, ws)
        return
      }
      case 'resume':
        this.flush()
        this.replay(ws, frame.lastSeq)
        return
      case 'read':
        this.recordRead(att.user.id, Math.min(frame.seq, this.seq))
        return
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.left(ws)
    // Complete the closing handshake; 1005/1006 cannot be sent back.
    this.close(ws, code === 1005 || code === 1006 ? 1000 : code, '')
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.left(ws)
  }

  private attachmentOf(ws: WebSocket): Attachment | null {
    let att = this.attachments.get(ws)
    if (att === undefined) {
      att = (ws.deserializeAttachment() as Attachment | null) ?? null
      this.attachments.set(ws, att)
    }
    return att
  }

  private left(ws: WebSocket): void {
    const att = this.attachmentOf(ws)
    if (!att) return
    if (this.socketsOf(att.user.id).some((other) => other !== ws)) return
    this.lastTyping.delete(att.user.id)
    this.broadcast({ type: 'presence', event: 'left', user: att.user }, ws)
  }

  private socketsOf(userId: string): WebSocket[] {
    return this.ctx
      .getWebSockets(userId)
      .filter((ws) => ws.readyState === WebSocket.READY_STATE_OPEN)
  }

  private presence(): PresenceUser[] {
    const users = new Map<string, PresenceUser>()
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.READY_STATE_OPEN) continue
      const att = this.attachmentOf(ws)
      if (att) users.set(att.user.id, att.user)
    }
    return [...users.values()]
  }

  /** Token bucket per connection: refuse past empty, close with 4429 a bucket's worth later. */
  private takeToken(ws: WebSocket): boolean {
    const { ROOM_FLOOD_PER_SECOND: rate, ROOM_FLOOD_BURST: burst } = this.config
    const now = Date.now()
    const bucket = this.buckets.get(ws) ?? { tokens: burst, at: now }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate)
    bucket.at = now
    bucket.tokens -= 1
    this.buckets.set(ws, bucket)
    if (bucket.tokens >= 0) return true
    if (bucket.tokens < -burst) {
      this.close(ws, closeCodes.flooding, 'too many frames')
      return false
    }
    this.sendTo(ws, {
      type: 'error',
      code: 'rate_limited',
      message: `More than ${rate} frames a second; slow down or be disconnected`,
    })
    return false
  }

  private close(ws: WebSocket, code: number, reason: string): void {
    try {
      ws.close(code, reason)
    } catch {
      // already closed
    }
  }

  private sendTo(ws: WebSocket, frame: ServerFrame): void {
    try {
      ws.send(JSON.stringify(frame))
    } catch {
      // the socket went away; its close event cleans up
    }
  }

  // ---- messages ---------------------------------------------------------------------

  private accept(user: PresenceUser, clientMsgId: string, body: string): SendResult {
    if (!fitsIn(body, this.config.ROOM_MAX_BODY_BYTES)) {
      return {
        ok: false,
        code: 'payload_too_large',
        message: `Message body is larger than ${this.config.ROOM_MAX_BODY_BYTES} bytes`,
      }
    }
    const sql = this.ctx.storage.sql
    const previous = sql
      .exec<{ seq: number; id: string }>(
        'SELECT seq, id FROM sent WHERE author = ? AND client_msg_id = ?',
        user.id,
        clientMsgId,
      )
      .toArray()[0]
    if (previous) return { ok: true, ack: { clientMsgId, seq: previous.seq, id: previous.id } }
    if (this.unshipped >= this.config.ROOM_OUTBOX_LIMIT) {
      return {
        ok: false,
        code: 'unavailable',
        message: 'The room cannot store more messages until the origin catches up; retry shortly',
      }
    }
    const seq = this.seq + 1
    const id = newId()
    const now = Date.now()
    sql.exec(
      'INSERT INTO messages (seq, id, author, client_msg_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      seq,
      id,
      user.id,
      clientMsgId,
      body,
      now,
    )
    sql.exec(
      'INSERT INTO sent (author, client_msg_id, seq, id, at) VALUES (?, ?, ?, ?, ?)',
      user.id,
      clientMsgId,
      seq,
      id,
      now,
    )
    this.setMeta('seq', seq)
    this.seq = seq
    this.unshipped += 1
    this.broadcast({
      type: 'message',
      seq,
      id,
      author: user.id,
      body,
      createdAt: new Date(now).toISOString(),
      clientMsgId,
    })
    this.scheduleShip()
    return { ok: true, ack: { clientMsgId, seq, id } }
  }

  /** Sends what a socket missed after `lastSeq`: from the window, or `gap` for what is older. */
  private replay(ws: WebSocket, lastSeq: number): void {
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) return
    const upTo = this.broadcastSeq
    if (lastSeq >= upTo) return
    const lo = this.lowestHeld()
    let from = lastSeq
    if (from + 1 < lo) {
      this.sendTo(ws, { type: 'gap', from: from + 1, to: lo - 1 })
      from = lo - 1
    }
    const chunk = 500
    while (from < upTo) {
      const rows = this.ctx.storage.sql
        .exec<Row>(
          `SELECT seq, id, author, client_msg_id, body, created_at FROM messages
           WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
          from,
          upTo,
          chunk,
        )
        .toArray()
      if (!rows.length) break
      try {
        ws.send(JSON.stringify(rows.map(toFrame)))
      } catch {
        return
      }
      from = rows[rows.length - 1]!.seq
    }
  }

  /** Queues a frame for every open socket but `except`; one flush per turn sends them all. */
  private broadcast(frame: ServerFrame, except?: WebSocket): void {
    if (except) {
      // Rare (presence, typing): flush the queue first to keep order, then send directly.
      this.flush()
      const data = JSON.stringify(frame)
      for (const ws of this.ctx.getWebSockets()) {
        if (ws === except) continue
        try {
          ws.send(data)
        } catch {
          // closing
        }
      }
      return
    }
    this.pending.push(frame)
    if (!this.flushQueued) {
      this.flushQueued = true
      // Idle: next turn. Busy: wait out the interval, and everything queued goes in one message.
      const wait = Math.max(0, this.lastFlush + this.config.ROOM_BROADCAST_INTERVAL_MS - Date.now())
      setTimeout(() => this.flush(), wait)
    }
  }

  private flush(): void {
    this.flushQueued = false
    if (!this.pending.length) return
    this.lastFlush = Date.now()
    const frames = this.pending
    this.pending = []
    const data = JSON.stringify(frames.length === 1 ? frames[0] : frames)
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(data)
      } catch {
        // closing
      }
    }
    for (const f of frames) if (f.type === 'message') this.broadcastSeq = f.seq
  }

  private recordRead(userId: string, seq: number): void {
    this.ctx.storage.sql.exec(
      'INSERT INTO reads (user, seq) VALUES (?, ?) ON CONFLICT (user) DO UPDATE SET seq = max(seq, excluded.seq)',
      userId,
      seq,
    )
    this.scheduleShip()
  }

  // ---- the outbox -------------------------------------------------------------------

  private scheduleShip(delay = this.config.ROOM_SHIP_DELAY_MS): void {
    if (this.alarmSet) return
    this.alarmSet = true
    // A pending alarm (set before hibernation) may already be later than this; keep the earlier.
    void this.ctx.storage.getAlarm().then((at) => {
      const when = Date.now() + delay
      if (at === null || at > when) return this.ctx.storage.setAlarm(when)
    })
  }

  override async alarm(): Promise<void> {
    this.alarmSet = false
    // Keep shipping while there is a backlog (no alarm round trip between batches), but
    // hand the object back now and then.
    const until = Date.now() + 5_000
    for (;;) {
      const outcome = await this.shipOnce()
      if (outcome !== 'shipped') return
      if (Date.now() > until) {
        this.scheduleShip(0)
        return
      }
    }
  }

  /**
   * One round of shipping: up to ROOM_SHIP_CONCURRENCY batches of ROOM_SHIP_BATCH in
   * parallel (the ingest is idempotent, so order between them does not matter), read
   * markers with the first. Each batch that lands is marked shipped; any failure schedules
   * a retry with backoff.
   */
  private async shipOnce(): Promise<'empty' | 'shipped' | 'failed'> {
    const sql = this.ctx.storage.sql
    const { ROOM_SHIP_BATCH: size, ROOM_SHIP_CONCURRENCY: concurrency } = this.config
    const rows = sql
      .exec<Row>(
        `SELECT seq, id, author, client_msg_id, body, created_at FROM messages
         WHERE shipped = 0 ORDER BY seq LIMIT ?`,
        size * concurrency,
      )
      .toArray()
    const reads = sql.exec<{ user: string; seq: number }>('SELECT user, seq FROM reads').toArray()
    if (!rows.length && !reads.length) return 'empty'
    const chunks: Row[][] = []
    for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size))
    if (!chunks.length) chunks.push([])
    const results = await Promise.allSettled(
      chunks.map((chunk, i) =>
        this.ship({
          messages: chunk.map((r) => ({
            seq: r.seq,
            id: r.id,
            author: r.author,
            clientMsgId: r.client_msg_id,
            body: r.body,
            createdAt: r.created_at,
          })),
          reads: i === 0 ? reads.map((r) => ({ user: r.user, seq: r.seq })) : [],
        }),
      ),
    )
    for (const [i, result] of results.entries()) {
      const chunk = chunks[i]!
      if (result.status !== 'fulfilled') continue
      if (chunk.length) {
        sql.exec(
          'UPDATE messages SET shipped = 1 WHERE seq BETWEEN ? AND ?',
          chunk[0]!.seq,
          chunk.at(-1)!.seq,
        )
      }
      // A marker that moved on while we shipped stays for the next batch.
      if (i === 0)
        for (const r of reads)
          sql.exec('DELETE FROM reads WHERE user = ? AND seq = ?', r.user, r.seq)
    }
    // The window: keep ROOM_WINDOW shipped messages, and never anything above an unshipped
    // one, so what the room holds is always one contiguous range.
    const { lowest } = sql
      .exec<{ lowest: number | null }>('SELECT min(seq) AS lowest FROM messages WHERE shipped = 0')
      .one()
    sql.exec(
      'DELETE FROM messages WHERE shipped = 1 AND seq <= ?',
      Math.min(this.seq - this.config.ROOM_WINDOW, (lowest ?? Number.MAX_SAFE_INTEGER) - 1),
    )
    sql.exec('DELETE FROM sent WHERE at < ?', Date.now() - SENT_RETENTION_MS)
    this.unshipped = this.countUnshipped()
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) {
      const attempt = Number(this.meta('shipAttempt') ?? 0) + 1
      this.setMeta('shipAttempt', attempt)
      const ceiling = Math.min(
        this.config.ROOM_SHIP_MAX_BACKOFF_MS,
        250 * 2 ** Math.min(attempt, 20),
      )
      const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
      log('warn', 'room outbox: shipping failed; will retry', {
        room: this.roomId,
        attempt,
        retryInMs: delay,
        unshipped: this.unshipped,
        ...errorFields((failed as PromiseRejectedResult).reason),
      })
      this.alarmSet = true
      await this.ctx.storage.setAlarm(Date.now() + delay)
      return 'failed'
    }
    this.setMeta('shipAttempt', 0)
    return 'shipped'
  }

  private async ship(batch: IngestBody): Promise<void> {
    const path = `/internal/rooms/${this.roomId}/ingest`
    const body = encoder.encode(JSON.stringify(batch))
    const headers = await signRequest(this.config.EDGE_SIGNING_SECRET, {
      method: 'POST',
      pathWithQuery: path,
      userId: '',
      body,
    })
    const res = await fetch(new URL(path, this.config.ORIGIN_URL), {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(this.config.ORIGIN_TIMEOUT_MS),
    })
    if (!res.ok)
      throw new Error(`origin answered ${res.status}: ${(await res.text()).slice(0, 300)}`)
    await res.body?.cancel()
  }
}
