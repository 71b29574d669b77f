import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import type { Room } from '../../../edge/room'
import { roomHeaders } from '../../../edge/room/headers'
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

  it('takes a burst of concurrent sends gapless, each with its own ack, a duplicate with the original', async () => {
    const room = env.ROOMS.getByName(newId())
    // Two authors, each inside the per-user send burst (40).
    const users = [0, 1].map((i) => ({ id: newId(), name: `Tester ${i}` }))
    // A new room first learns where MySQL's numbering stands; then the burst.
    expect(await room.post(users[1]!, 'first', 'm-first')).toMatchObject({ ok: true })
    const sends = Array.from({ length: 40 }, (_, i) => room.post(users[i % 2]!, `c-${i}`, `m${i}`))
    const retried = room.post(users[0]!, 'c-0', 'm0')
    const acks = await Promise.all(sends)
    // Concurrent calls may be taken in any order; each gets its own seq, with no gaps.
    const seqs = acks.map((a) => (a.ok ? a.ack.seq : 0))
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 2))
    expect(await retried).toEqual(acks[0])
    const stats = await room.stats()
    expect(stats.seq).toBe(41)
    expect(stats.sendsCommitted).toBe(42)
    const history = await room.history({ limit: 100 })
    const bodyOf = new Map(history.items.map((m) => [m.seq, m.body]))
    expect(seqs.map((seq) => bodyOf.get(seq))).toEqual(seqs.map((_, i) => `m${i}`))
  })

  it('stores sends that arrive together in one storage commit', async () => {
    const stub = env.ROOMS.getByName(newId())
    const user = { id: newId(), name: 'Tester' }
    expect(await stub.post(user, 'first', 'm-first')).toMatchObject({ ok: true })
    // Thirty sends reach the room before it has run any of them (as frames read together do).
    const acks = await runInDurableObject(stub, (room: Room) =>
      Promise.all(Array.from({ length: 30 }, (_, i) => room.post(user, `c-${i}`, `m${i}`))),
    )
    expect(acks.every((a) => a.ok)).toBe(true)
    const stats = await stub.stats()
    expect({ commits: stats.sendCommits, sends: stats.sendsCommitted }).toEqual({
      commits: 2, // the first send's, and one for the thirty (there were thirty before)
      sends: 31,
    })
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

/** Opens a socket to the room as the edge would, with the time of its access check; resolves with its first event. */
async function connect(roomId: string, userId: string, checkedAt: number) {
  const res = await env.ROOMS.getByName(roomId).fetch('https://room/ws', {
    headers: {
      upgrade: 'websocket',
      [roomHeaders.userId]: userId,
      [roomHeaders.userName]: 'Bob',
      [roomHeaders.tokenExp]: String(Math.floor(Date.now() / 1000) + 600),
      [roomHeaders.checkedAt]: String(checkedAt),
    },
  })
  const ws = res.webSocket!
  ws.accept()
  return new Promise<{ welcomed: boolean; closeCode?: number }>((resolve) => {
    ws.addEventListener('message', () => resolve({ welcomed: true }))
    ws.addEventListener('close', (e) => resolve({ welcomed: false, closeCode: e.code }))
  })
}

describe('Room: a leave beats a connect racing it', () => {
  it('refuses a socket whose access check happened before the user left, and admits a later one', async () => {
    const roomId = newId()
    const bob = newId()
    const checkedBeforeLeave = Date.now() - 1
    await env.ROOMS.getByName(roomId).kick(bob) // the leave returned 2xx and kicked
    expect(await connect(roomId, bob, checkedBeforeLeave)).toEqual({
      welcomed: false,
      closeCode: 4403,
    })
    // A check made after the leave (say, bob joined again) is admitted.
    await new Promise((r) => setTimeout(r, 5))
    expect(await connect(roomId, bob, Date.now() + 1)).toEqual({ welcomed: true })
  })
})
