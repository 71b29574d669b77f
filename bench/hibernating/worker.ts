import { DurableObject } from 'cloudflare:workers'

/** Accepts every socket on the hibernation API; holds nothing of its own. */
export class Minimal extends DurableObject {
  override async fetch(): Promise<Response> {
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
    return env.ROOMS.getByName('the-room').fetch(request)
  },
}
