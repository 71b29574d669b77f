import { DurableObject } from 'cloudflare:workers'

/** Accepts every socket on the hibernation API; holds nothing of its own. */
export class Minimal extends DurableObject {
  override async fetch(request: Request): Promise<Response> {
    // The bench's broadcast (bench/hibernating/floor.ts): one frame to every socket.
    if (request.method === 'POST') {
      const frame = await request.text()
      for (const ws of this.ctx.getWebSockets()) ws.send(frame)
      return new Response(null, { status: 204 })
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
    this.ctx.acceptWebSocket(server)
    server.send('{"type":"welcome"}')
    return new Response(null, { status: 101, webSocket: client })
  }

  override async webSocketMessage(): Promise<void> {}
}

/** Every request to one object, as the edge hands a room's sockets to one room. */
export default {
  fetch(request: Request, env: { ROOMS: DurableObjectNamespace<Minimal> }) {
    // The bench enters the isolate this way (bench/inspector.ts) without waking the object.
    if (new URL(request.url).pathname === '/health') return new Response('ok')
    return env.ROOMS.getByName('the-room').fetch(request)
  },
}
