import { DurableObject } from 'cloudflare:workers'
import { TILE_INTERVAL_MS, type TileName, type Tiles, type TilesFrame } from '../../shared/live'
import { closeCodes, PROTOCOL } from '../../shared/protocol'

/** Subscribers one dashboard channel keeps at most (admins' browsers). */
const MAX_SUBSCRIBERS = 1_000

interface Subscriber {
  userId: string
  /** When the access token it connected with expires (ms): the socket is closed then. */
  expiresAt: number
}

/**
 * The live dashboard's channel: one object, fed by the origin (`update`), watched by
 * admins over hibernating WebSockets. Each tile goes out at most once a second — the
 * first change at once, later ones gathered until its second is up — and a new subscriber
 * gets every tile's latest value, kept in storage so a restart forgets nothing. The socket
 * only listens: anything it sends closes it, and it lives no longer than its token, so a
 * reader that stalls is owed at most a token's lifetime of updates.
 */
export class LiveDashboard extends DurableObject<Record<string, unknown>> {
  private latest: Tiles = {}
  private sentAt = new Map<TileName, number>()
  private dirty = new Set<TileName>()
  private timer: ReturnType<typeof setTimeout> | null = null

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env)
    void ctx.blockConcurrencyWhile(async () => {
      this.latest = (await ctx.storage.get<Tiles>('tiles')) ?? {}
    })
  }

  override async fetch(request: Request): Promise<Response> {
    const userId = request.headers.get('x-plaza-user') ?? ''
    const expiresAt = Number(request.headers.get('x-plaza-token-exp') ?? 0) * 1000
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    if (this.ctx.getWebSockets().length >= MAX_SUBSCRIBERS) {
      server.accept()
      server.close(closeCodes.unavailable, 'too many dashboard subscribers')
    } else {
      this.ctx.acceptWebSocket(server)
      server.serializeAttachment({ userId, expiresAt } satisfies Subscriber)
      server.send(JSON.stringify({ type: 'tiles', tiles: this.latest } satisfies TilesFrame))
    }
    // Only plaza.v1 is chosen back: the offered token must never be echoed.
    const offered = request.headers.get('sec-websocket-protocol') ?? ''
    const chosen = offered.split(',').some((p) => p.trim() === PROTOCOL)
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: chosen ? { 'sec-websocket-protocol': PROTOCOL } : {},
    })
  }

  /** New values from the origin: sent now where a tile's second is up, gathered otherwise. */
  async update(tiles: Tiles): Promise<void> {
    this.latest = { ...this.latest, ...tiles }
    await this.ctx.storage.put('tiles', this.latest)
    for (const name of Object.keys(tiles) as TileName[]) this.dirty.add(name)
    this.flush()
  }

  private flush(): void {
    const now = Date.now()
    const due: Tiles = {}
    let next = Number.POSITIVE_INFINITY
    for (const name of this.dirty) {
      const readyAt = (this.sentAt.get(name) ?? 0) + TILE_INTERVAL_MS
      if (readyAt <= now) {
        Object.assign(due, { [name]: this.latest[name] })
        this.sentAt.set(name, now)
        this.dirty.delete(name)
      } else next = Math.min(next, readyAt)
    }
    if (Object.keys(due).length) this.broadcast({ type: 'tiles', tiles: due })
    if (next !== Number.POSITIVE_INFINITY && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null
        this.flush()
      }, next - now)
    }
  }

  private broadcast(frame: TilesFrame): void {
    const text = JSON.stringify(frame)
    const now = Date.now()
    for (const ws of this.ctx.getWebSockets()) {
      const { expiresAt } = ws.deserializeAttachment() as Subscriber
      if (expiresAt && expiresAt <= now) {
        ws.close(closeCodes.unauthorized, 'access token expired')
        continue
      }
      try {
        ws.send(text)
      } catch {
        // Closing already: its close event tidies up.
      }
    }
  }

  override async webSocketMessage(ws: WebSocket): Promise<void> {
    // 1008: policy violation.
    ws.close(1008, 'this channel only sends')
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, 'bye')
    } catch {
      // Already closed.
    }
  }
}
