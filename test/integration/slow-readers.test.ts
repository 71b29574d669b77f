import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import type { MessageFrame } from '../../shared/message'
import { createRoom, join, rawSocket, registerUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// What a socket may owe (hardening issue, 4): a socket that does not read is closed once
// it owes the room more than ROOM_SOCKET_MAX_UNREAD_BYTES, so no client can make the
// room hold more than that for it. Small bounds here, so a few messages reach them.
const maxUnread = 65_536
let stack: Stack

beforeAll(async () => {
  stack = await startTestStack({
    edgeVars: { ROOM_SOCKET_MAX_UNREAD_BYTES: String(maxUnread), ROOM_REPLAY_MAX_BYTES: '16384' },
  })
}, 60_000)

afterAll(async () => {
  await stack?.stop()
})

const body = (n: number) => `${n} ${'x'.repeat(3_000)}`

describe('a socket that does not read', () => {
  it('is closed with 4408 past its unread bound; a reading member gets everything and stays', async () => {
    const ada = await registerUser(stack, 'Ada')
    const bob = await registerUser(stack, 'Bob')
    const carol = await registerUser(stack, 'Carol')
    const roomId = await createRoom(stack, ada)
    const reader = await join(stack, carol, roomId)
    const received: MessageFrame[] = []
    reader.on('message', (m) => received.push(m))
    let reconnects = 0
    reader.on('status', (s) => s === 'reconnecting' && reconnects++)

    const stalled = await rawSocket(stack, roomId, bob.token)
    await until('welcome', () => stalled.frames.some((f) => f.type === 'welcome'))
    let bytes = 0
    let last = 0
    stalled.ws.on('message', (data: Buffer) => {
      bytes += data.length
      last = data.length
    })
    stalled.ws.pause() // reads nothing more: the room's frames pile up for it

    const sender = await rawSocket(stack, roomId, ada.token)
    await until('welcome', () => sender.frames.some((f) => f.type === 'welcome'))
    sender.ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString())
      if (frame.type === 'mark') sender.ws.send(JSON.stringify({ type: 'marked', id: frame.id }))
    })
    // One at a time, so each broadcast goes alone (not coalesced into one large frame).
    for (let n = 1; n <= 40; n++) {
      sender.ws.send(JSON.stringify({ type: 'send', clientMsgId: `m${n}`, body: body(n) }))
      await until('ack', () => sender.frames.some((f) => f.clientMsgId === `m${n}`))
    }
    await until('the reader has all 40', () => received.length === 40)

    stalled.ws.resume()
    // The close frame arrives at once; workerd ends the TCP connection of a socket that
    // stalled only ~20 s later, so stop waiting for it once the frame is in.
    await until('close frame', () => stalled.ws.readyState !== stalled.ws.OPEN)
    stalled.ws.terminate()
    const closed = await stalled.closed
    expect(closed).toEqual({ code: 4408, reason: 'not reading: too many unread bytes' })
    // What it was sent stops at the bound: all but the message that crossed it fit within.
    expect(bytes - last).toBeLessThanOrEqual(maxUnread)
    expect(stalled.frames.filter((f) => f.type === 'message').length).toBeLessThan(40)

    expect(received.map((m) => m.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(reader.status).toBe('open')
    expect(reconnects).toBe(0)
    reader.close()
    sender.ws.close()
  }, 30_000)

  it('a client that reads but never answers the marks is closed the same way', async () => {
    const ada = await registerUser(stack, 'Ada')
    const roomId = await createRoom(stack, ada)
    const deaf = await rawSocket(stack, roomId, ada.token)
    await until('welcome', () => deaf.frames.some((f) => f.type === 'welcome'))
    // One at a time, so each broadcast goes alone and marks come between them.
    for (let n = 1; n <= 40 && deaf.ws.readyState === deaf.ws.OPEN; n++) {
      deaf.ws.send(JSON.stringify({ type: 'send', clientMsgId: `d${n}`, body: body(n) }))
      await until(
        'ack',
        () =>
          deaf.frames.some((f) => f.clientMsgId === `d${n}`) || deaf.ws.readyState !== deaf.ws.OPEN,
      )
    }
    expect(await deaf.closed).toEqual({
      code: 4408,
      reason: 'not reading: too many unread bytes',
    })
    const marks = deaf.frames.filter((f) => f.type === 'mark')
    expect(marks.length).toBeGreaterThan(0)
    expect(new Set(marks.map((m) => m.id)).size).toBe(marks.length)
  }, 30_000)

  it('a mark answered with a made-up id earns nothing', async () => {
    const ada = await registerUser(stack, 'Ada')
    const roomId = await createRoom(stack, ada)
    const liar = await rawSocket(stack, roomId, ada.token)
    await until('welcome', () => liar.frames.some((f) => f.type === 'welcome'))
    for (let n = 1; n <= 40 && liar.ws.readyState === liar.ws.OPEN; n++) {
      liar.ws.send(JSON.stringify({ type: 'send', clientMsgId: `l${n}`, body: body(n) }))
      await until(
        'ack',
        () =>
          liar.frames.some((f) => f.clientMsgId === `l${n}`) || liar.ws.readyState !== liar.ws.OPEN,
      )
      liar.ws.send(JSON.stringify({ type: 'marked', id: `guess${n}` }))
    }
    expect(liar.frames.some((f) => f.type === 'mark')).toBe(true)
    expect((await liar.closed).code).toBe(4408)
  }, 30_000)
})
