import { closeCodes, type PresenceUser, type ServerFrame } from '../../shared/protocol'

/** What each socket carries through hibernation (serializeAttachment): who it is, until when. */
export interface Attachment {
  user: PresenceUser
  /** Access token expiry, unix seconds: frames after it close the socket with 4401. */
  exp: number
}

export interface Bucket {
  tokens: number
  at: number
}

export type FloodVerdict = 'ok' | 'refuse' | 'close'

/**
 * Token bucket per connection: `rate` frames a second, holding `burst`. Past empty a frame
 * is refused; a second bucket's worth past empty, the socket is closed.
 */
export function takeToken(bucket: Bucket, now: number, rate: number, burst: number): FloodVerdict {
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate)
  bucket.at = now
  bucket.tokens -= 1
  if (bucket.tokens >= 0) return 'ok'
  return bucket.tokens < -burst ? 'close' : 'refuse'
}

/**
 * The room's sockets, through the hibernation API: accepted with the user id as tag, who
 * they are in their attachment (read once per socket per wake), presence derived from the
 * open ones, a flood bucket per socket and a typing throttle per user.
 */
export class RoomSockets {
  private readonly attachments = new WeakMap<WebSocket, Attachment | null>()
  private readonly buckets = new WeakMap<WebSocket, Bucket>()
  private readonly lastTyping = new Map<string, number>()
  private readonly lastResume = new WeakMap<WebSocket, number>()
  private readonly userBuckets = new Map<string, Bucket>()
  /** Sockets already counted out (close and error may both arrive for one socket). */
  private readonly released = new WeakSet<WebSocket>()
  /** Who is online, with their open sockets: built once per wake, then kept as sockets come and go. */
  private onlineUsers: Map<string, { user: PresenceUser; sockets: number }> | undefined

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly flood: { rate: number; burst: number; typingIntervalMs: number },
  ) {}

  all(): WebSocket[] {
    return this.ctx.getWebSockets()
  }

  /** Takes a socket in; true when it is its user's first (they joined the room). */
  accept(ws: WebSocket, attachment: Attachment): boolean {
    const online = this.online()
    this.ctx.acceptWebSocket(ws, [attachment.user.id])
    ws.serializeAttachment(attachment)
    this.attachments.set(ws, attachment)
    this.buckets.set(ws, { tokens: this.flood.burst, at: Date.now() })
    const entry = online.get(attachment.user.id)
    if (entry) {
      entry.sockets += 1
      return false
    }
    online.set(attachment.user.id, { user: attachment.user, sockets: 1 })
    return true
  }

  private online(): Map<string, { user: PresenceUser; sockets: number }> {
    if (!this.onlineUsers) {
      this.onlineUsers = new Map()
      for (const ws of this.ctx.getWebSockets()) {
        if (ws.readyState !== WebSocket.READY_STATE_OPEN) continue
        const att = this.attachmentOf(ws)
        if (!att) continue
        const entry = this.onlineUsers.get(att.user.id)
        if (entry) entry.sockets += 1
        else this.onlineUsers.set(att.user.id, { user: att.user, sockets: 1 })
      }
    }
    return this.onlineUsers
  }

  /** How many users are connected. */
  get onlineCount(): number {
    return this.online().size
  }

  attachmentOf(ws: WebSocket): Attachment | null {
    let att = this.attachments.get(ws)
    if (att === undefined) {
      att = (ws.deserializeAttachment() as Attachment | null) ?? null
      this.attachments.set(ws, att)
    }
    return att
  }

  /** A user's open sockets. */
  of(userId: string): WebSocket[] {
    return this.ctx
      .getWebSockets(userId)
      .filter((ws) => ws.readyState === WebSocket.READY_STATE_OPEN)
  }

  /** Who is connected, one entry per user, at most `limit`. */
  presence(limit = Number.POSITIVE_INFINITY): PresenceUser[] {
    const users: PresenceUser[] = []
    for (const { user } of this.online().values()) {
      if (users.length >= limit) break
      users.push(user)
    }
    return users
  }

  /** A socket went away: the user, when it was their last socket (they left the room). */
  release(ws: WebSocket): PresenceUser | null {
    const att = this.attachmentOf(ws)
    if (!att || this.released.has(ws)) return null
    this.released.add(ws)
    const online = this.online()
    const entry = online.get(att.user.id)
    if (entry && entry.sockets > 1) {
      entry.sockets -= 1
      return null
    }
    online.delete(att.user.id)
    this.lastTyping.delete(att.user.id)
    this.userBuckets.delete(att.user.id)
    return att.user
  }

  takeToken(ws: WebSocket): FloodVerdict {
    const now = Date.now()
    let bucket = this.buckets.get(ws)
    if (!bucket) {
      bucket = { tokens: this.flood.burst, at: now }
      this.buckets.set(ws, bucket)
    }
    return takeToken(bucket, now, this.flood.rate, this.flood.burst)
  }

  /**
   * One user's send budget in this room, across all their sockets: without it one account
   * multiplies its rate by its socket count. Kept while the user is online.
   */
  takeUserSend(userId: string, rate: number, burst: number): boolean {
    const now = Date.now()
    let bucket = this.userBuckets.get(userId)
    if (!bucket) {
      bucket = { tokens: burst, at: now }
      this.userBuckets.set(userId, bucket)
    }
    return takeToken(bucket, now, rate, burst) === 'ok'
  }

  /**
   * Closes (with `close`) every open socket whose token has expired by `now`, listening or
   * not; returns when the next one expires (ms), or null when none is open.
   */
  expire(now: number, close: (ws: WebSocket) => void): number | null {
    let next: number | null = null
    for (const ws of this.ctx.getWebSockets()) {
      if (ws.readyState !== WebSocket.READY_STATE_OPEN) continue
      const expiresAt = (this.attachmentOf(ws)?.exp ?? 0) * 1000
      if (expiresAt <= now) close(ws)
      else if (next === null || expiresAt < next) next = expiresAt
    }
    return next
  }

  /** At most one replay per socket per interval: a resume flood cannot make the room re-send its window. */
  mayResume(ws: WebSocket, intervalMs: number): boolean {
    const now = Date.now()
    if (now - (this.lastResume.get(ws) ?? 0) < intervalMs) return false
    this.lastResume.set(ws, now)
    return true
  }

  /** At most one typing event per user per interval. */
  mayType(userId: string): boolean {
    const now = Date.now()
    if (now - (this.lastTyping.get(userId) ?? 0) < this.flood.typingIntervalMs) return false
    this.lastTyping.set(userId, now)
    return true
  }
}

export function closeSocket(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason)
  } catch {
    // already closed
  }
}

/** Flood control for one frame: false when it is refused (and the client told) or the socket closed. */
export function admitFrame(
  sockets: RoomSockets,
  ws: WebSocket,
  rate: number,
  tell: (frame: ServerFrame) => void,
): boolean {
  const verdict = sockets.takeToken(ws)
  if (verdict === 'ok') return true
  if (verdict === 'close') closeSocket(ws, closeCodes.flooding, 'too many frames')
  else {
    const message = `More than ${rate} frames a second; slow down or be disconnected`
    tell({ type: 'error', code: 'rate_limited', message })
  }
  return false
}
