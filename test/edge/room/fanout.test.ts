import { describe, expect, it } from 'vitest'
import { FanOut } from '../../../edge/room/fanout'
import { newId } from '../../../shared/ids'
import { toFrame } from '../../../shared/message'
import { appendMany, recorder, sleep, withRoomStorage } from './support'

const message = (seq: number) =>
  toFrame({ seq, id: newId(), author: newId(), body: `m${seq}`, createdAt: 0, clientMsgId: null })

describe('FanOut', () => {
  it('coalesces what is queued in one turn into one WebSocket message per socket', async () => {
    const a = recorder()
    const b = recorder()
    const fanout = new FanOut(() => [a, b], { lowestHeld: () => 1, range: () => [] }, 0, 0)
    fanout.broadcast(message(1))
    fanout.broadcast(message(2))
    fanout.broadcast(message(3))
    expect(a.messages).toEqual([])
    await sleep(5)
    expect(a.messages).toHaveLength(1)
    expect(b.messages).toEqual(a.messages)
    expect(a.frames().map((f) => f.seq)).toEqual([1, 2, 3])
    expect(fanout.broadcastSeq).toBe(3)
  })

  it('a busy room flushes at most once per interval', async () => {
    const a = recorder()
    const fanout = new FanOut(() => [a], { lowestHeld: () => 1, range: () => [] }, 100, 0)
    fanout.broadcast(message(1))
    await sleep(5)
    expect(a.messages).toHaveLength(1)
    fanout.broadcast(message(2))
    fanout.broadcast(message(3))
    await sleep(20)
    expect(a.messages).toHaveLength(1) // still inside the interval
    await sleep(120)
    expect(a.messages).toHaveLength(2)
    expect(JSON.parse(a.messages[1]!).map((f: { seq: number }) => f.seq)).toEqual([2, 3])
  })

  it('flushes at once when asked and the interval allows, and its timer then sends nothing more', async () => {
    const a = recorder()
    const fanout = new FanOut(() => [a], { lowestHeld: () => 1, range: () => [] }, 100, 0)
    fanout.broadcast(message(1))
    fanout.flushIfDue()
    expect(a.frames().map((f) => f.seq)).toEqual([1])
    fanout.broadcast(message(2))
    fanout.flushIfDue() // inside the interval: left to the timer
    expect(a.messages).toHaveLength(1)
    await sleep(130)
    expect(a.frames().map((f) => f.seq)).toEqual([1, 2])
    await sleep(20)
    expect(a.messages).toHaveLength(2)
  })

  it('sends frames for everyone but one after what is queued, keeping order', async () => {
    const a = recorder()
    const b = recorder()
    const fanout = new FanOut(() => [a, b], { lowestHeld: () => 1, range: () => [] }, 1000, 0)
    fanout.broadcast(message(1))
    fanout.broadcastExcept({ type: 'typing', user: { id: newId(), name: 'A' } }, a)
    expect(a.frames().map((f) => f.type)).toEqual(['message'])
    expect(b.frames().map((f) => f.type)).toEqual(['message', 'typing'])
  })

  it('replays in seq order from the window, a gap first for what it no longer holds, up to what was broadcast', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 1205)
      store.markShipped(1205)
      store.recordLanding({ landedThrough: 1205, setAside: 0 })
      store.prune(1000, Date.now()) // holds 206..1205
      const peer = recorder()
      const fanout = new FanOut(() => [], store, 0, 1200) // 1201..1205 not broadcast yet
      fanout.replay(peer, 100)
      const frames = peer.frames()
      expect(frames[0]).toEqual({ type: 'gap', from: 101, to: 205 })
      const seqs = frames.slice(1).map((f) => f.seq)
      expect(seqs).toEqual(Array.from({ length: 995 }, (_, i) => 206 + i))
      expect(peer.messages.length).toBe(1 + 2) // the gap, then chunks of 500
    })
  })

  it('bounds a replay: the oldest beyond the message budget come as a gap, then the newest in order', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 50)
      const peer = recorder()
      const fanout = new FanOut(() => [], store, 0, 50, { maxMessages: 10, maxBytes: 1 << 20 })
      fanout.replay(peer, 0)
      const frames = peer.frames()
      expect(frames[0]).toEqual({ type: 'gap', from: 1, to: 40 })
      expect(frames.slice(1).map((f) => f.seq)).toEqual(
        Array.from({ length: 10 }, (_, i) => 41 + i),
      )
    })
  })

  it('bounds a replay in bytes: what the budget leaves out comes as a trailing gap', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 20) // bodies of 2-3 characters: ~210 bytes a frame by the budget's count
      const peer = recorder()
      const fanout = new FanOut(() => [], store, 0, 20, { maxMessages: 1000, maxBytes: 1000 })
      fanout.replay(peer, 0)
      const frames = peer.frames()
      const seqs = frames.filter((f) => f.type === 'message').map((f) => f.seq)
      expect(seqs).toEqual([1, 2, 3, 4])
      expect(frames.at(-1)).toEqual({ type: 'gap', from: 5, to: 20 })
      expect(peer.messages.join('').length).toBeLessThan(2000)
    })
  })

  it('replays nothing to a socket that is up to date, and nothing for a bad lastSeq', async () => {
    const peer = recorder()
    const fanout = new FanOut(() => [], { lowestHeld: () => 1, range: () => [] }, 0, 10)
    fanout.replay(peer, 10)
    fanout.replay(peer, -1)
    fanout.replay(peer, Number.NaN)
    expect(peer.messages).toEqual([])
  })
})
