import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { RoomPresence } from '../../../edge/room/presence'
import { RoomSockets } from '../../../edge/room/sockets'
import { newId } from '../../../shared/ids'
import type { ServerFrame } from '../../../shared/protocol'
import { sleep } from './support'

/** A room's sockets and presence on a real Durable Object, with `listMax` 2. */
function withPresence(
  fn: (sockets: RoomSockets, presence: RoomPresence, sent: ServerFrame[]) => Promise<void>,
) {
  return runInDurableObject(env.ROOMS.getByName(newId()), async (_room, state) => {
    const sockets = new RoomSockets(state, { rate: 10, burst: 10, typingIntervalMs: 1000 })
    const sent: ServerFrame[] = []
    const presence = new RoomPresence(sockets, (f) => sent.push(f), {
      listMax: 2,
      countIntervalMs: 30,
    })
    await fn(sockets, presence, sent)
  })
}

function connect(sockets: RoomSockets, presence: RoomPresence, name: string) {
  const [, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
  const user = { id: newId(), name }
  if (sockets.accept(server, { user, exp: Date.now() / 1000 + 60 })) presence.joined(user)
  return { server, user }
}

describe('RoomPresence', () => {
  it('sends joins one by one within the list limit, and only a throttled count past it', async () => {
    await withPresence(async (sockets, presence, sent) => {
      connect(sockets, presence, 'A')
      connect(sockets, presence, 'B')
      expect(sent.map((f) => f.type === 'presence' && f.event)).toEqual(['joined', 'joined'])
      for (const name of ['C', 'D', 'E']) connect(sockets, presence, name)
      expect(sent).toHaveLength(2) // past the limit: nothing per user…
      await sleep(60)
      expect(sent.slice(2)).toEqual([{ type: 'presence', event: 'count', online: 5 }]) // …one count
      expect(presence.snapshot()).toEqual({ presence: expect.any(Array), online: 5 })
      expect(presence.snapshot().presence).toHaveLength(2)
    })
  })

  it('counts a user once however many sockets they hold, and leaves when the last one goes', async () => {
    await withPresence(async (sockets, presence, sent) => {
      const first = connect(sockets, presence, 'A')
      const [, second] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
      expect(sockets.accept(second, { user: first.user, exp: Date.now() / 1000 + 60 })).toBe(false)
      expect(sockets.onlineCount).toBe(1)
      expect(sockets.release(first.server)).toBeNull()
      expect(sockets.release(first.server)).toBeNull() // close and error for one socket count once
      const gone = sockets.release(second)
      expect(gone).toEqual(first.user)
      presence.left(first.user)
      expect(sent.at(-1)).toEqual({ type: 'presence', event: 'left', user: first.user, online: 0 })
    })
  })
})
