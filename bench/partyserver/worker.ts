import { routePartykitRequest, Server } from 'partyserver'

/**
 * The alternative the room was measured against (bench/fanout.ts): partyserver on the
 * hibernation API, relaying each message to every connection with `broadcast()` — one
 * send per socket per message, no sequencing, no storage.
 */
export class Relay extends Server {
  static override options = { hibernate: true }

  override onMessage(_connection: unknown, message: string | ArrayBuffer): void {
    this.broadcast(message)
  }
}

export default {
  async fetch(request: Request, env: Record<string, unknown>): Promise<Response> {
    return (
      (await routePartykitRequest(request, env as never)) ??
      new Response('not found', { status: 404 })
    )
  },
}
