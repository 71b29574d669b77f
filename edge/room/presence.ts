import type { PresenceUser, ServerFrame } from '../../shared/protocol'
import type { RoomSockets } from './sockets'

export interface PresenceOptions {
  /** Past this many users online, no per-user events: only the count. */
  listMax: number
  /** How often at most the count is broadcast past the limit. */
  countIntervalMs: number
}

/**
 * What the room tells everyone when people come and go. Within the list limit, each join
 * and leave is a frame queued with the room's broadcast (coalesced per flush, so a burst
 * of joins costs one WebSocket message per socket per interval). Past it, nobody needs
 * ten thousand names: the online count goes out at most once per interval. Either way
 * filling a room is linear in its size, and the welcome's list is bounded.
 */
export class RoomPresence {
  private countTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly sockets: RoomSockets,
    private readonly broadcast: (frame: ServerFrame) => void,
    private readonly options: PresenceOptions,
  ) {}

  /** The welcome's view: a bounded list and the count. */
  snapshot(): { presence: PresenceUser[]; online: number } {
    return {
      presence: this.sockets.presence(this.options.listMax),
      online: this.sockets.onlineCount,
    }
  }

  joined(user: PresenceUser): void {
    this.changed({ type: 'presence', event: 'joined', user, online: this.sockets.onlineCount })
  }

  left(user: PresenceUser): void {
    this.changed({ type: 'presence', event: 'left', user, online: this.sockets.onlineCount })
  }

  private changed(frame: ServerFrame): void {
    // Around the limit a leave can take the room back under it: a last count keeps
    // clients that switched to counting right.
    if (this.sockets.onlineCount <= this.options.listMax && !this.countTimer) {
      this.broadcast(frame)
      return
    }
    this.countTimer ??= setTimeout(() => {
      this.countTimer = undefined
      this.broadcast({ type: 'presence', event: 'count', online: this.sockets.onlineCount })
    }, this.options.countIntervalMs)
  }
}
