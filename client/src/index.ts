import ReconnectingWebSocket from 'partysocket/ws'
import {
  closeCodes,
  type MessageDto,
  type MessageFrame,
  PING,
  PONG,
  PROTOCOL,
  type PresenceUser,
  parseServerMessage,
  type ServerFrame,
  TOKEN_PROTOCOL_PREFIX,
} from '../../shared/protocol'

export type { MessageDto, MessageFrame, PresenceUser, ServerFrame }
export { closeCodes, PROTOCOL }

/** Where a room connection stands. `forbidden` and `closed` are final. */
export type Status = 'connecting' | 'open' | 'reconnecting' | 'forbidden' | 'closed'

export interface Ack {
  clientMsgId: string
  seq: number
  id: string
}

export interface PlazaOptions {
  /** The edge, e.g. `https://api.example.com` or `http://127.0.0.1:8787`. */
  baseUrl: string
  /**
   * The current access token; with `refresh: true`, a new one (the room closed with 4401).
   * Plaza never stores tokens: your app owns sign-in and refresh.
   */
  getToken: (options: { refresh: boolean }) => string | Promise<string>
  /** A WebSocket class where there is no global one (Node < 22: `import WebSocket from 'ws'`). */
  WebSocket?: unknown
  fetch?: typeof fetch
}

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
  presence: { event: 'joined' | 'left' | 'snapshot'; user?: PresenceUser; users: PresenceUser[] }
  typing: PresenceUser
  status: Status
  /** Messages older than the room's window were missed; the SDK is paging them from history. */
  gap: { from: number; to: number }
  /** A send the room could not take yet (outbox full, or paced): it is retried with the same clientMsgId. */
  retrying: { clientMsgId: string; code: string; inMs: number }
  /** Error frames not tied to a send (a send's error rejects its promise). */
  error: { code: string; message: string }
}

type Listener<T> = (value: T) => void

interface Pending {
  clientMsgId: string
  body: string
  resolve: (ack: Ack) => void
  reject: (err: Error) => void
  attempts: number
  sent: boolean
  timer?: ReturnType<typeof setTimeout>
}

/*
 * Plain string work instead of URL/URLSearchParams/crypto.randomUUID: React Native's
 * runtime lacks or only partly implements them.
 */
function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`
}

let counter = 0
/** A clientMsgId unique per author: random where the platform offers it, time and counter always. */
export function newClientMsgId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto
  if (c?.randomUUID) return c.randomUUID()
  let random = ''
  if (c?.getRandomValues) {
    const bytes = c.getRandomValues(new Uint8Array(8))
    for (const b of bytes) random += b.toString(16).padStart(2, '0')
  } else {
    random = Math.random().toString(16).slice(2, 18)
  }
  counter = (counter + 1) % 1_000_000
  return `${Date.now().toString(36)}-${counter.toString(36)}-${random}`
}

export class PlazaError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message)
    this.name = 'PlazaError'
  }
}

/** The client: HTTP calls through the edge, and room connections. */
export class Plaza {
  constructor(readonly options: PlazaOptions) {}

  /** A JSON request to the edge with the access token (refreshed once on 401). */
  async request<T>(path: string, init: { method?: string; json?: unknown } = {}): Promise<T> {
    const doFetch = this.options.fetch ?? fetch
    for (let attempt = 0; ; attempt++) {
      const token = await this.options.getToken({ refresh: attempt > 0 })
      const res = await doFetch(joinUrl(this.options.baseUrl, path), {
        method: init.method ?? 'GET',
        headers: {
          authorization: `Bearer ${token}`,
          ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
      })
      if (res.status === 401 && attempt === 0) continue
      const text = await res.text()
      const body = text ? JSON.parse(text) : null
      if (!res.ok) {
        throw new PlazaError(
          body?.error?.code ?? 'http_error',
          body?.error?.message ?? `HTTP ${res.status}`,
          res.status,
        )
      }
      return body as T
    }
  }

  /** A page of a room's history, oldest first. */
  history(
    roomId: string,
    q: { before?: number; after?: number; limit?: number } = {},
  ): Promise<{ items: MessageDto[]; full: boolean }> {
    const params = Object.entries(q)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
      .join('&')
    return this.request(`/v1/rooms/${encodeURIComponent(roomId)}/messages?${params}`)
  }

  /** Connects to a room; see RoomConnection. */
  room(roomId: string, options: RoomOptions = {}): RoomConnection {
    return new RoomConnection(this, roomId, options)
  }
}

/**
 * A live room: reconnects with backoff and jitter, refreshes the token on 4401, resumes
 * from the last seq it delivered, drops duplicates, holds back out-of-order frames, pages
 * history over a gap, and re-sends unacked messages with their clientMsgId after a
 * reconnect (the room answers a retry with the original ack).
 */
export class RoomConnection {
  status: Status = 'connecting'
  /** The last seq delivered to `message` listeners. */
  lastSeq: number | undefined
  readonly presence = new Map<string, PresenceUser>()
  me: PresenceUser | undefined

  private readonly socket: ReconnectingWebSocket
  private readonly listeners = new Map<keyof RoomEvents, Set<Listener<never>>>()
  private readonly outbox = new Map<string, Pending>()
  private readonly held = new Map<number, MessageFrame>()
  private filling: Promise<void> | null = null
  private refresh = false
  private readonly maxInFlight: number
  /** Paces frames to the room's advertised limits (welcome.limits), so it never has to refuse us. */
  private bucket = { tokens: 0, at: 0, rate: 0, burst: 0 }
  private pumpTimer: ReturnType<typeof setTimeout> | undefined
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private lastHeard = Date.now()

  constructor(
    private readonly plaza: Plaza,
    readonly roomId: string,
    options: RoomOptions,
  ) {
    this.lastSeq = options.lastSeq
    this.maxInFlight = options.maxInFlight ?? 16
    const base = joinUrl(
      plaza.options.baseUrl,
      `/v1/rooms/${encodeURIComponent(roomId)}/ws`,
    ).replace(/^http/, 'ws')
    this.socket = new ReconnectingWebSocket(
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
    this.socket.addEventListener('message', (event) => {
      this.lastHeard = Date.now()
      const data = String(event.data)
      if (data !== PONG) this.onMessage(data)
    })
    const beat = options.heartbeatMs ?? 25_000
    if (beat > 0) {
      this.heartbeat = setInterval(() => {
        if (this.status !== 'open') return
        if (Date.now() - this.lastHeard > beat * 2) {
          this.socket.reconnect()
          return
        }
        this.socket.send(PING)
      }, beat)
      // Never keep a Node process alive just for heartbeats.
      ;(this.heartbeat as { unref?: () => void }).unref?.()
    }
    this.socket.addEventListener('close', (event) => {
      if (this.status === 'closed') return
      if (event.code === closeCodes.forbidden) {
        clearInterval(this.heartbeat)
        this.setStatus('forbidden')
        this.failAll(new PlazaError('forbidden', 'Not a member of this room'))
        this.socket.close()
        return
      }
      for (const p of this.outbox.values()) p.sent = false
      this.setStatus('reconnecting')
    })
  }

  on<K extends keyof RoomEvents>(event: K, listener: Listener<RoomEvents[K]>): () => void {
    let set = this.listeners.get(event)
    if (!set) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener as Listener<never>)
    return () => set.delete(listener as Listener<never>)
  }

  /** Sends a message; resolves with its ack once the room stored it durably. */
  send(body: string, options: { clientMsgId?: string } = {}): Promise<Ack> {
    if (this.status === 'closed' || this.status === 'forbidden') {
      return Promise.reject(new PlazaError(this.status, `The room connection is ${this.status}`))
    }
    const clientMsgId = options.clientMsgId ?? newClientMsgId()
    const existing = this.outbox.get(clientMsgId)
    if (existing)
      return new Promise((resolve, reject) => {
        const { resolve: r0, reject: j0 } = existing
        existing.resolve = (ack) => {
          r0(ack)
          resolve(ack)
        }
        existing.reject = (err) => {
          j0(err)
          reject(err)
        }
      })
    return new Promise<Ack>((resolve, reject) => {
      this.outbox.set(clientMsgId, { clientMsgId, body, resolve, reject, attempts: 0, sent: false })
      this.pump()
    })
  }

  /** Tells the room you are typing (it throttles; nothing is stored). */
  typing(): void {
    if (this.take()) this.raw({ type: 'typing' })
  }

  /** Marks everything up to `seq` read. */
  read(seq: number): void {
    if (this.take()) this.raw({ type: 'read', seq })
  }

  /** Unacked sends, oldest first. */
  get unacked(): number {
    return this.outbox.size
  }

  close(): void {
    clearTimeout(this.pumpTimer)
    clearInterval(this.heartbeat)
    this.setStatus('closed')
    this.failAll(new PlazaError('closed', 'The room connection was closed'))
    this.socket.close(1000)
  }

  // ---- internals --------------------------------------------------------------------

  private emit<K extends keyof RoomEvents>(event: K, value: RoomEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? [])
      (listener as Listener<RoomEvents[K]>)(value)
  }

  private setStatus(status: Status): void {
    if (this.status === status) return
    this.status = status
    this.emit('status', status)
  }

  private raw(frame: unknown): boolean {
    if (this.status !== 'open') return false
    this.socket.send(JSON.stringify(frame))
    return true
  }

  /** Takes a frame's worth from the pacing bucket; false when the room would refuse it now. */
  private take(): boolean {
    const b = this.bucket
    if (!b.rate) return true
    const now = Date.now()
    b.tokens = Math.min(b.burst, b.tokens + ((now - b.at) / 1000) * b.rate)
    b.at = now
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  private failAll(err: Error): void {
    for (const p of this.outbox.values()) {
      clearTimeout(p.timer)
      p.reject(err)
    }
    this.outbox.clear()
  }

  /** Sends queued messages, oldest first, up to maxInFlight unacked at once. */
  private pump(): void {
    if (this.status !== 'open') return
    let inFlight = 0
    for (const p of this.outbox.values()) {
      if (p.sent) {
        inFlight++
        continue
      }
      if (p.timer || inFlight >= this.maxInFlight) continue
      if (!this.take()) {
        this.pumpTimer ??= setTimeout(
          () => {
            this.pumpTimer = undefined
            this.pump()
          },
          Math.ceil(1000 / this.bucket.rate),
        )
        return
      }
      p.sent = true
      p.attempts++
      inFlight++
      this.raw({ type: 'send', clientMsgId: p.clientMsgId, body: p.body })
    }
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
        this.me = frame.you
        this.presence.clear()
        for (const u of frame.presence) this.presence.set(u.id, u)
        if (this.lastSeq === undefined) this.lastSeq = frame.seq
        // Keep a little headroom under the room's limits (clock skew, typing and read frames).
        this.bucket = {
          rate: frame.limits.framesPerSecond * 0.9,
          burst: Math.max(1, Math.floor(frame.limits.burst / 2)),
          tokens: Math.max(1, Math.floor(frame.limits.burst / 2)),
          at: Date.now(),
        }
        this.setStatus('open')
        this.emit('presence', { event: 'snapshot', users: [...this.presence.values()] })
        for (const p of this.outbox.values()) p.sent = false
        this.pump()
        return
      case 'message':
        this.receive(frame)
        return
      case 'ack': {
        const p = this.outbox.get(frame.clientMsgId)
        if (!p) return
        this.outbox.delete(frame.clientMsgId)
        p.resolve({ clientMsgId: frame.clientMsgId, seq: frame.seq, id: frame.id })
        this.pump()
        return
      }
      case 'gap':
        this.emit('gap', { from: frame.from, to: frame.to })
        this.fill(frame.from, frame.to)
        return
      case 'presence':
        if (frame.event === 'joined') this.presence.set(frame.user.id, frame.user)
        else this.presence.delete(frame.user.id)
        this.emit('presence', {
          event: frame.event,
          user: frame.user,
          users: [...this.presence.values()],
        })
        return
      case 'typing':
        if (frame.user.id !== this.me?.id) this.emit('typing', frame.user)
        return
      case 'error': {
        const p = frame.clientMsgId ? this.outbox.get(frame.clientMsgId) : undefined
        if (!p) {
          this.emit('error', { code: frame.code, message: frame.message })
          return
        }
        if (frame.code === 'unavailable' || frame.code === 'rate_limited') {
          // Not stored: try again later with the same clientMsgId.
          p.sent = false
          const delay =
            Math.min(10_000, 250 * 2 ** Math.min(p.attempts, 6)) * (0.5 + Math.random() / 2)
          p.timer = setTimeout(() => {
            p.timer = undefined
            this.pump()
          }, delay)
          this.emit('retrying', {
            clientMsgId: p.clientMsgId,
            code: frame.code,
            inMs: Math.round(delay),
          })
          return
        }
        this.outbox.delete(p.clientMsgId)
        p.reject(new PlazaError(frame.code, frame.message))
        this.pump()
        return
      }
    }
  }

  /** Delivers in seq order: duplicates dropped, early frames held until the hole is filled. */
  private receive(frame: MessageFrame): void {
    if (this.lastSeq === undefined) this.lastSeq = frame.seq - 1
    if (frame.seq <= this.lastSeq) return
    this.held.set(frame.seq, frame)
    if (this.filling) return
    this.drain()
  }

  private drain(): void {
    for (;;) {
      const next = this.held.get((this.lastSeq ?? 0) + 1)
      if (!next) break
      this.held.delete(next.seq)
      this.lastSeq = next.seq
      this.emit('message', next)
    }
  }

  /** Pages history over a gap the room no longer holds, then delivers what was held back. */
  private fill(from: number, to: number): void {
    const run = async () => {
      let after = Math.max(from - 1, this.lastSeq ?? 0)
      while (after < to) {
        const page = await this.plaza.history(this.roomId, { after, limit: 200 })
        for (const m of page.items) {
          if (m.seq > to) break
          if (m.seq <= (this.lastSeq ?? 0)) continue
          this.lastSeq = m.seq
          const frame: MessageFrame = {
            type: 'message',
            seq: m.seq,
            id: m.id,
            author: m.author,
            body: m.body,
            createdAt: m.createdAt,
          }
          if (m.clientMsgId) frame.clientMsgId = m.clientMsgId
          this.emit('message', frame)
        }
        const last = page.items.at(-1)?.seq
        if (last === undefined || !page.full) break
        after = last
      }
    }
    const previous = this.filling ?? Promise.resolve()
    this.filling = previous
      .then(run)
      .catch((err: Error) => this.emit('error', { code: 'history', message: err.message }))
      .finally(() => {
        this.filling = null
        this.drain()
      })
  }
}
