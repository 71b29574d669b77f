import { DurableObject } from 'cloudflare:workers'
import type { EdgeConfig } from '../../shared/config'
import { newId } from '../../shared/ids'
import { SYSTEM_AUTHOR, SYSTEM_NAME, toFrame, toMessage } from '../../shared/message'
import {
  type ClientFrame,
  closeCodes,
  PING,
  PONG,
  type PresenceUser,
  type ServerFrame,
} from '../../shared/protocol'
import { configOf } from '../config'
import type { Relay } from '../relay'
import { nextExpiryCheck } from './alarm'
import { assemble } from './assemble'
import type { RoomHistory, SendResult } from './contract'
import type { FanOut } from './fanout'
import { readFrame } from './frames'
import { GroupCommit } from './group-commit'
import { accepted, roomHeaders } from './headers'
import type { AlarmClock, RoomOutbox } from './outbox'
import type { RoomPresence } from './presence'
import { connectRefusal, refusal, userSendRate } from './refusal'
import type { RoomSignals } from './signals'
import { type Attachment, admitFrame, closeSocket, type RoomSockets } from './sockets'
import { roomStats } from './stats'
import type { RoomStore } from './store'
import type { UnreadBound } from './unread'
import { welcomeFrame } from './welcome'

const SYSTEM_USER = { id: SYSTEM_AUTHOR, name: SYSTEM_NAME }

export type { RoomHistory, SendResult } from './contract'

type FrameOf<T extends ClientFrame['type']> = Extract<ClientFrame, { type: T }>

/**
 * One Durable Object per room, addressed by the room id (`ctx.id.name`), the room's
 * serialization point (DESIGN §1–§3). Its life is a few hooks — a socket connects, a
 * frame arrives (one handler per frame type), a socket closes, the alarm (outbox, token
 * expiry) — and the RPC entry points the edge calls; the parts live beside it
 * (ARCHITECTURE: store, outbox, fan-out, sockets, presence). A send's storage write
 * commits before any output leaves (the output gate): an ack is never ahead of durability.
 */
export class Room extends DurableObject<Record<string, unknown>> {
  private readonly config: EdgeConfig
  private readonly store: RoomStore
  private readonly sockets: RoomSockets
  /** Every frame to a socket leaves through it: what each socket owes is counted. */
  private readonly unread: UnreadBound<WebSocket>
  private readonly fanout: FanOut
  private readonly outbox: RoomOutbox
  private readonly presence: RoomPresence
  private readonly signals: RoomSignals
  private readonly clock: AlarmClock
  /** Learns where MySQL's numbering stands (a room that woke with empty storage). */
  private readonly numbering: () => Promise<boolean>
  /** Sends that arrive together are stored in one event: one storage commit for all. */
  private readonly commits = new GroupCommit({ afterBatch: () => this.fanout.flushIfDue() })

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env)
    this.config = configOf(env)
    const relays = env.RELAYS as DurableObjectNamespace<Relay>
    const parts = assemble(ctx, this.config, relays, () => this.roomId)
    this.store = parts.store
    this.sockets = parts.sockets
    this.unread = parts.unread
    this.fanout = parts.fanout
    this.outbox = parts.outbox
    this.presence = parts.presence
    this.signals = parts.signals
    this.clock = parts.alarm
    this.numbering = parts.numbering
    if (ctx.id.name) this.store.rememberName(ctx.id.name)
    // Heartbeats are answered by the runtime without waking the room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG))
  }

  /** The room id: the name the edge addressed it by (storage's copy, if its alarm woke it unnamed). */
  private get roomId(): string {
    const name = this.ctx.id.name ?? this.store.name()
    if (!name) throw new Error('a Room is addressed by its room id (ROOMS.getByName)')
    return name
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return Response.json(
        { error: { code: 'upgrade_required', message: 'Expected a WebSocket upgrade' } },
        { status: 426 },
      )
    }
    const h = request.headers
    const user: PresenceUser = {
      id: h.get(roomHeaders.userId) ?? '',
      name: decodeURIComponent(h.get(roomHeaders.userName) ?? ''),
    }
    const attachment: Attachment = { user, exp: Number(h.get(roomHeaders.tokenExp) ?? 0) }
    const lastSeq = h.get(roomHeaders.lastSeq)
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    const refusal = connectRefusal(this.config, Number(h.get(roomHeaders.checkedAt) ?? 0), {
      departedAt: this.store.departedAt(user.id),
      openSockets: this.sockets.of(user.id).length,
    })
    if (refusal) {
      // Accepted only to be closed: a browser sees close codes, not HTTP statuses.
      server.accept()
      server.close(refusal.code, refusal.reason)
      return new Response(null, { status: 101, webSocket: client, headers: accepted(h) })
    }
    const firstOfUser = this.sockets.accept(server, attachment)
    this.signals.changed()
    // Listening needs a valid token too: the alarm closes the socket when it expires.
    void this.clock.setAlarm(nextExpiryCheck(attachment.exp * 1000))
    // Deliver what is queued first, so the welcome's seq and the live stream line up.
    this.fanout.flush()
    const presence = this.presence.snapshot()
    this.send(server, welcomeFrame(this.config, this.roomId, this.store.seq, user, presence))
    if (lastSeq !== null && this.sockets.mayResume(server, this.config.ROOM_RESUME_INTERVAL_MS)) {
      this.signals.replayed(this.fanout.replay(server, Number(lastSeq)))
    }
    if (firstOfUser) this.presence.joined(user)
    return new Response(null, { status: 101, webSocket: client, headers: accepted(h) })
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const read = readFrame(message, this.config.ROOM_MAX_FRAME_BYTES)
    if (!read.ok && read.tooLarge) {
      const max = this.config.ROOM_MAX_FRAME_BYTES
      return closeSocket(ws, closeCodes.tooLarge, `frame larger than ${max} bytes`)
    }
    const att = this.sockets.attachmentOf(ws)
    if (!att || att.exp * 1000 < Date.now()) {
      return closeSocket(ws, closeCodes.unauthorized, 'access token expired')
    }
    const rate = this.config.ROOM_FLOOD_PER_SECOND
    if (!admitFrame(this.sockets, ws, rate, (frame) => this.send(ws, frame))) return
    if (!read.ok) return this.send(ws, { type: 'error', code: 'bad_frame', message: read.message })
    const frame = read.frame
    switch (frame.type) {
      case 'send':
        return this.onSend(ws, att.user, frame)
      case 'typing':
        return this.onTyping(ws, att.user)
      case 'resume':
        return this.onResume(ws, frame)
      case 'read':
        return this.onRead(att.user, frame)
      case 'marked':
        return this.unread.answered(ws, frame.id)
    }
  }

  private async onSend(ws: WebSocket, user: PresenceUser, frame: FrameOf<'send'>): Promise<void> {
    if (!this.store.numbered()) await this.numbering()
    const result = await this.commits.run(() => this.accept(user, frame.clientMsgId, frame.body))
    if (result.ok) return this.send(ws, { type: 'ack', ...result.ack })
    const { code, message } = result
    this.send(ws, { type: 'error', code, message, clientMsgId: frame.clientMsgId })
  }

  private onTyping(ws: WebSocket, user: PresenceUser): void {
    if (this.sockets.mayType(user.id)) this.fanout.broadcastExcept({ type: 'typing', user }, ws)
  }

  private onResume(ws: WebSocket, frame: FrameOf<'resume'>): void {
    const interval = this.config.ROOM_RESUME_INTERVAL_MS
    if (!this.sockets.mayResume(ws, interval)) {
      const message = `At most one resume every ${interval} ms`
      this.send(ws, { type: 'error', code: 'rate_limited', message })
      return
    }
    this.fanout.flush()
    this.signals.replayed(this.fanout.replay(ws, frame.lastSeq))
  }

  private onRead(user: PresenceUser, frame: FrameOf<'read'>): void {
    this.store.recordRead(user.id, Math.min(frame.seq, this.store.seq))
    this.outbox.schedule()
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.left(ws)
    // Complete the closing handshake; 1005/1006 cannot be sent back.
    closeSocket(ws, code === 1005 || code === 1006 ? 1000 : code, '')
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.left(ws)
  }

  private left(ws: WebSocket): void {
    const user = this.sockets.release(ws)
    if (user) this.presence.left(user)
    this.signals.changed()
  }

  override async alarm(): Promise<void> {
    const next = this.sockets.expire(Date.now(), (ws) => {
      // The frame first: a close from an alarm can reach a client late, the frame does not.
      this.send(ws, { type: 'error', code: 'token_expired', message: 'Access token expired' })
      closeSocket(ws, closeCodes.unauthorized, 'access token expired')
    })
    if (next !== null) await this.clock.setAlarm(nextExpiryCheck(next))
    await this.outbox.onAlarm()
  }

  /** The HTTP send path, as a WebSocket send; a signed publish as the system (no send budget). */
  async post(user: PresenceUser | 'system', clientMsgId: string, body: string) {
    if (!this.store.numbered()) await this.numbering()
    const budgeted = user !== 'system'
    const author = budgeted ? user : SYSTEM_USER
    const result = await this.commits.run(() => this.accept(author, clientMsgId, body, budgeted))
    this.fanout.flush()
    return result
  }

  /**
   * History the room still holds, for the edge to merge with MySQL's, with what the edge
   * needs to know whether a page can never change: the last seq handed out, and how far
   * everything has landed in MySQL.
   */
  async history(q: { before?: number; after?: number; limit: number }): Promise<RoomHistory> {
    return {
      items: this.store.range(q).map(toMessage),
      lowestHeld: this.store.lowestHeld(),
      seq: this.store.seq,
      landedThrough: this.store.landedThrough(),
    }
  }

  async presenceOf(): Promise<{ room: string; users: PresenceUser[]; online: number }> {
    const { presence, online } = this.presence.snapshot()
    return { room: this.roomId, users: presence, online }
  }

  /** Read markers are coalesced here and shipped with the outbox. */
  async markRead(userId: string, seq: number): Promise<void> {
    this.store.recordRead(userId, Math.min(seq, this.store.seq))
    this.outbox.schedule()
  }

  /** Closes a user's sockets (they left, or were removed from, a private room). */
  async kick(userId: string): Promise<number> {
    this.store.recordDeparture(userId, Date.now())
    const sockets = this.sockets.of(userId)
    for (const ws of sockets) {
      const message = 'You are no longer a member of this room'
      this.send(ws, { type: 'error', code: 'unauthorized', message })
      closeSocket(ws, closeCodes.forbidden, 'no longer a member')
    }
    return sockets.length
  }

  /** For tests and operators: the room's own bookkeeping. */
  async stats() {
    const { store, outbox, sockets, presence, unread, commits } = this
    return roomStats(store, outbox, sockets, presence, unread, commits)
  }

  /** Checks, dedupes, numbers, stores, broadcasts; a retry gets its original ack even if now refused. */
  private accept(
    user: PresenceUser,
    clientMsgId: string,
    body: string,
    budgeted = true,
  ): SendResult {
    const original = () => {
      const previous = this.store.previousAck(user.id, clientMsgId)
      return previous && { ok: true as const, ack: { clientMsgId, ...previous } }
    }
    const refused = refusal(this.config, body, {
      userBudget: () =>
        !budgeted || this.sockets.takeUserSend(user.id, ...userSendRate(this.config)),
      outboxSize: this.outbox.size,
      numbered: this.store.numbered(),
    })
    if (refused) return (refused.code !== 'payload_too_large' && original()) || refused
    const appended = this.store.append({
      id: newId(),
      author: user.id,
      clientMsgId,
      body,
      createdAt: Date.now(),
    })
    if ('previous' in appended) return { ok: true, ack: { clientMsgId, ...appended.previous } }
    const { stored } = appended
    this.outbox.added()
    this.signals.count('accepted')
    this.fanout.broadcast(toFrame(stored))
    return { ok: true, ack: { clientMsgId, seq: stored.seq, id: stored.id } }
  }

  private send(ws: WebSocket, frame: ServerFrame): void {
    this.unread.deliver(ws, JSON.stringify(frame))
  }
}
