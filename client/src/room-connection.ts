import ReconnectingWebSocket from 'partysocket/ws'
import type { MessageFrame, MessagePage } from '../../shared/message'
import {
  type Ack,
  closeCodes,
  PING,
  PONG,
  PROTOCOL,
  type PresenceUser,
  parseServerMessage,
  type ServerFrame,
  TOKEN_PROTOCOL_PREFIX,
} from '../../shared/protocol'
import { PlazaError } from './errors'
import { Emitter } from './events'
import { newClientMsgId } from './ids'
import { SendOutbox } from './outbox'
import { Pacer } from './pacer'
import { Sequencer } from './sequencer'

/** What a room connection needs of the client (the `Plaza` class). */
export interface RoomClient {
  url(path: string): string
  options: {
    getToken: (options: { refresh: boolean }) => string | Promise<string>
    WebSocket?: unknown
  }
  history(roomId: string, q: { after: number; limit: number }): Promise<MessagePage>
}

/** Where a room connection stands. `forbidden` and `closed` are final. */
export type Status = 'connecting' | 'open' | 'reconnecting' | 'forbidden' | 'closed'

export interface RoomOptions {
  /** Resume after this seq (e.g. persisted from an earlier session): missed messages are replayed or paged. */
  lastSeq?: number
  /** Unacked sends in flight at once; the rest wait their turn. */
  maxInFlight?: number
  /** Longest wait between reconnection attempts, ms. */
  maxReconnectDelayMs?: number
  /** Heartbeat interval, ms (0: none). The room answers without waking; silence for two beats reconnects. */
  heartbeatMs?: number
}

export interface RoomEvents {
  /** Every message once, in seq order, with no gap (history is paged in when needed). */
  message: MessageFrame
  /**
   * Who is here. `users` is the room's list (bounded: past the room's list limit only
   * `online` moves, with `count` events); `online` is everyone connected.
   */
  presence: {
    event: 'joined' | 'left' | 'snapshot' | 'count'
    user?: PresenceUser
    users: PresenceUser[]
    online: number
  }
  typing: PresenceUser
  status: Status
  /** Messages older than the room's window were missed; the SDK is paging them from history. */
  gap: { from: number; to: number }
  /** A send the room could not take yet (outbox full, or paced): it is retried with the same clientMsgId. */
  retrying: { clientMsgId: string; code: string; inMs: number }
  /** Error frames not tied to a send (a send's error rejects its promise). */
  error: { code: string; message: string }
}

/**
 * A live room: reconnects with backoff and jitter (partysocket), refreshes the token on 4401,
 * resumes from the last seq it delivered, keeps a heartbeat. What it receives goes through
 * the `Sequencer` (order, dedupe, gap filling); what it sends through the `SendOutbox`. */
export class RoomConnection extends Emitter<RoomEvents> {
  status: Status = 'connecting'
  readonly presence = new Map<string, PresenceUser>()
  /** Users connected to the room now (may exceed `presence.size` in a big room). */
  online = 0
  me: PresenceUser | undefined

  private readonly socket: ReconnectingWebSocket
  private readonly sequencer: Sequencer
  private readonly pacer = new Pacer()
  private readonly outbox: SendOutbox
  private refresh = false
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private lastHeard = Date.now()
  constructor(
    plaza: RoomClient,
    readonly roomId: string,
    options: RoomOptions,
  ) {
    super()
    this.sequencer = new Sequencer(
      options.lastSeq,
      (frame) => this.emit('message', frame),
      (after) => plaza.history(roomId, { after, limit: 200 }),
      (err) => this.emit('error', { code: 'history', message: err.message }),
    )
    this.outbox = new SendOutbox(
      () => this.status === 'open',
      (frame) => this.socket.send(JSON.stringify(frame)),
      this.pacer,
      options.maxInFlight ?? 16,
    )
    this.socket = this.connect(plaza, options)
    this.startHeartbeat(options.heartbeatMs ?? 25_000)
  }

  /** The last seq delivered to `message` listeners. */
  get lastSeq(): number | undefined {
    return this.sequencer.lastSeq
  }

  /** Sends a message; resolves with its ack once the room stored it durably. */
  send(body: string, options: { clientMsgId?: string } = {}): Promise<Ack> {
    if (this.status === 'closed' || this.status === 'forbidden') {
      return Promise.reject(new PlazaError(this.status, `The room connection is ${this.status}`))
    }
    return this.outbox.add(options.clientMsgId ?? newClientMsgId(), body)
  }

  /** Tells the room you are typing (it throttles; nothing is stored). */
  typing(): void {
    if (this.pacer.take()) this.raw({ type: 'typing' })
  }

  /** Marks everything up to `seq` read. */
  read(seq: number): void {
    if (this.pacer.take()) this.raw({ type: 'read', seq })
  }

  /** Unacked sends, oldest first. */
  get unacked(): number {
    return this.outbox.size
  }

  close(): void {
    clearInterval(this.heartbeat)
    this.sequencer.stop()
    this.setStatus('closed')
    this.outbox.failAll(new PlazaError('closed', 'The room connection was closed'))
    this.socket.close(1000)
  }

  private connect(plaza: RoomClient, options: RoomOptions): ReconnectingWebSocket {
    const base = plaza.url(`/v1/rooms/${encodeURIComponent(this.roomId)}/ws`).replace(/^http/, 'ws')
    const socket = new ReconnectingWebSocket(
      () => (this.lastSeq === undefined ? base : `${base}?lastSeq=${this.lastSeq}`),
      async () => {
        const token = await plaza.options.getToken({ refresh: this.refresh })
        this.refresh = false
        return [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`]
      },
      {
        WebSocket: plaza.options.WebSocket,
        maxEnqueuedMessages: 0,
        minReconnectionDelay: 200 + Math.random() * 300,
        maxReconnectionDelay: options.maxReconnectDelayMs ?? 10_000,
        reconnectionDelayGrowFactor: 1.5 + Math.random() * 0.5,
        connectionTimeout: 8000,
        shouldReconnectOnClose: (event) => {
          if (event.code === closeCodes.unauthorized) this.refresh = true
          return event.code !== closeCodes.forbidden
        },
      },
    )
    socket.addEventListener('message', (event) => {
      this.lastHeard = Date.now()
      const data = String(event.data)
      if (data !== PONG) this.onMessage(data)
    })
    socket.addEventListener('close', (event) => this.onClose(event.code))
    return socket
  }

  private startHeartbeat(beat: number): void {
    if (beat <= 0) return
    this.heartbeat = setInterval(() => {
      if (this.status !== 'open') return
      if (Date.now() - this.lastHeard > beat * 2) this.socket.reconnect()
      else this.socket.send(PING)
    }, beat)
    // Never keep a Node process alive just for heartbeats.
    ;(this.heartbeat as { unref?: () => void }).unref?.()
  }

  private onClose(code: number): void {
    if (this.status === 'closed') return
    if (code === closeCodes.forbidden) {
      clearInterval(this.heartbeat)
      this.setStatus('forbidden')
      this.outbox.failAll(new PlazaError('forbidden', 'Not a member of this room'))
      this.socket.close()
      return
    }
    this.outbox.resend()
    this.setStatus('reconnecting')
  }

  private setStatus(status: Status): void {
    if (this.status === status) return
    this.status = status
    this.emit('status', status)
  }

  private raw(frame: unknown): void {
    if (this.status === 'open') this.socket.send(JSON.stringify(frame))
  }

  private onMessage(data: string): void {
    let frames: ServerFrame[]
    try {
      frames = parseServerMessage(data)
    } catch {
      return
    }
    for (const frame of frames) this.onFrame(frame)
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'welcome':
        this.onWelcome(frame)
        break
      case 'message':
        this.sequencer.receive(frame)
        break
      case 'ack':
        this.outbox.acked(frame)
        break
      case 'gap':
        this.emit('gap', { from: frame.from, to: frame.to })
        this.sequencer.fill(frame.from, frame.to)
        break
      case 'presence':
        this.onPresence(frame)
        break
      case 'typing':
        if (frame.user.id !== this.me?.id) this.emit('typing', frame.user)
        break
      case 'error':
        this.onError(frame)
        break
      case 'mark': // read this far: the room closes (4408) a socket that owes it too much
        this.raw({ type: 'marked', id: frame.id })
        break
    }
  }

  private onPresence(frame: Extract<ServerFrame, { type: 'presence' }>): void {
    this.online = frame.online
    if (frame.event === 'count') {
      this.emit('presence', {
        event: 'count',
        users: [...this.presence.values()],
        online: this.online,
      })
      return
    }
    if (frame.event === 'joined') this.presence.set(frame.user.id, frame.user)
    else this.presence.delete(frame.user.id)
    const users = [...this.presence.values()]
    this.emit('presence', { event: frame.event, user: frame.user, users, online: this.online })
  }

  private onWelcome(frame: Extract<ServerFrame, { type: 'welcome' }>): void {
    this.me = frame.you
    this.presence.clear()
    for (const u of frame.presence) this.presence.set(u.id, u)
    this.online = frame.online
    this.sequencer.start(frame.seq)
    this.pacer.configure(frame.limits)
    this.setStatus('open')
    this.emit('presence', {
      event: 'snapshot',
      users: [...this.presence.values()],
      online: this.online,
    })
    this.outbox.resend()
    this.outbox.pump()
  }

  private onError(frame: Extract<ServerFrame, { type: 'error' }>): void {
    const { code, message, clientMsgId } = frame
    if (code === 'token_expired') {
      // The room is closing this socket (4401): reconnect at once with a fresh token.
      this.refresh = true
      this.socket.reconnect()
      return
    }
    const outcome =
      clientMsgId && this.outbox.has(clientMsgId)
        ? this.outbox.refused(clientMsgId, code, new PlazaError(code, message))
        : undefined
    if (outcome === undefined) this.emit('error', { code, message })
    else if (outcome !== null)
      this.emit('retrying', { clientMsgId: clientMsgId!, code, inMs: outcome })
  }
}
