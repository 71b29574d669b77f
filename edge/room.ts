import { DurableObject } from 'cloudflare:workers'
import type { Env } from './env'

/**
 * One Durable Object per room: the room's serialization point (DESIGN §1). For now it
 * proves its SQLite storage and answers; sockets, seq and the outbox come next.
 */
export class Room extends DurableObject<Env> {
  override async fetch(request: Request): Promise<Response> {
    const { one } = this.ctx.storage.sql.exec<{ one: number }>('SELECT 1 AS one').one()
    return Response.json({
      room: new URL(request.url).searchParams.get('room'),
      storage: one === 1 ? 'sqlite' : 'unknown',
      connections: this.ctx.getWebSockets().length,
    })
  }
}
