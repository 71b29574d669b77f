import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { newId } from '../../../shared/ids'

describe('Room Durable Object', () => {
  it('numbers and stores sends, answers a retried clientMsgId with the original ack, and serves its window', async () => {
    const roomId = newId()
    const room = env.ROOMS.getByName(roomId)
    const user = { id: newId(), name: 'Tester' }
    const first = await room.post(user, 'c-1', 'hello')
    expect(first).toEqual({ ok: true, ack: { clientMsgId: 'c-1', seq: 1, id: expect.any(String) } })
    expect(await room.post(user, 'c-1', 'hello')).toEqual(first)
    const second = await room.post(user, 'c-2', 'again')
    expect(second.ok && second.ack.seq).toBe(2)
    const tooBig = await room.post(user, 'c-3', 'x'.repeat(5000))
    expect(tooBig).toMatchObject({ ok: false, code: 'payload_too_large' })
    const history = await room.history({ limit: 10 })
    expect(history.items.map((m) => [m.seq, m.body, m.clientMsgId])).toEqual([
      [1, 'hello', 'c-1'],
      [2, 'again', 'c-2'],
    ])
    expect(history.lowestHeld).toBe(1)
    expect((await room.stats()).seq).toBe(2)
  })

  it('knows its room id from the name it is addressed by', async () => {
    const roomId = newId()
    expect(await env.ROOMS.getByName(roomId).presenceOf()).toEqual({
      room: roomId,
      users: [],
      online: 0,
    })
  })
})
