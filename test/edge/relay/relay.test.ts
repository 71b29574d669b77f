import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { RelayStore } from '../../../edge/relay/store'
import { newId } from '../../../shared/ids'
import type { IngestBody } from '../../../shared/internal/ingest'

const author = newId()
function batch(from: number, to: number): IngestBody {
  const messages = []
  for (let seq = from; seq <= to; seq++) {
    messages.push({
      seq,
      id: newId(),
      author,
      clientMsgId: `c${seq}`,
      body: `m${seq}`,
      createdAt: Date.now(),
    })
  }
  return { messages, reads: [] }
}

describe('RelayStore', () => {
  it('loads parcels in arrival order grouped by room, and a room has landed up to its oldest parcel', async () => {
    await runInDurableObject(env.RELAYS.getByName(newId()), (_relay, state) => {
      const store = new RelayStore(state.storage.sql)
      const [a, b] = [newId(), newId()]
      store.take(a, batch(1, 3), 0)
      store.take(b, batch(1, 2), 0)
      store.take(a, batch(3, 4), 0) // seq 3 again (a lost answer): stored once
      expect(store.held()).toBe(6)
      expect(store.landing(a)).toEqual({ landedThrough: 0, setAside: 0 })
      const load = store.load(4, 10)!
      expect([...load.rooms].map(([room, b]) => [room, b.messages.map((m) => m.seq)])).toEqual([
        [a, [1, 2, 3]],
        [b, [1]],
      ])
      store.landed(load, a)
      store.landed(load, b)
      // a's 4 and b's 2 are still here: each room has landed below its oldest parcel.
      expect(store.landing(a).landedThrough).toBe(3)
      expect(store.landing(b).landedThrough).toBe(1)
      const rest = store.load(10, 10)!
      store.landed(rest, a)
      store.setAside(rest, b, 409, 'seq collision', Date.now())
      expect(store.landing(a)).toEqual({ landedThrough: 4, setAside: 0 })
      expect(store.landing(b)).toEqual({ landedThrough: 2, setAside: 1 })
      expect(store.held()).toBe(0)
      expect(store.setAsideCount()).toBe(1)
    })
  })
})

describe('RelayStore, after a restart', () => {
  it('holds nothing in storage, so it asks a room to hand over again what it had taken', async () => {
    await runInDurableObject(env.RELAYS.getByName(newId()), (_relay, state) => {
      const room = newId()
      const before = new RelayStore(state.storage.sql)
      expect(before.take(room, batch(1, 3), 0)).toEqual({ landedThrough: 0, setAside: 0 })
      // The relay restarts (a new instance on the same storage) before it shipped 1..3.
      const after = new RelayStore(state.storage.sql)
      expect(after.held()).toBe(0)
      // The room, knowing nothing landed, asks: it must not hear that 1..3 are in MySQL.
      expect(after.ask(room, 0)).toEqual({ landedThrough: 0, setAside: 0, resend: true })
      // Its next batch would leave a gap (4.. without 1..3): not taken.
      expect(after.take(room, batch(4, 5), 0)).toMatchObject({ resend: true })
      expect(after.held()).toBe(0)
      // Handed over again from what has landed, all of it is taken, in order.
      expect(after.take(room, batch(1, 5), 0)).toEqual({ landedThrough: 0, setAside: 0 })
      expect(
        after
          .load(10, 0)!
          .rooms.get(room)!
          .messages.map((m) => m.seq),
      ).toEqual([1, 2, 3, 4, 5])
      // A room that knows 1..3 landed may start at 4.
      const other = newId()
      expect(after.take(other, batch(4, 4), 3)).toEqual({ landedThrough: 3, setAside: 0 })
    })
  })
})

describe('RelayStore, two shipments in flight', () => {
  it('a later shipment landing first never moves a room past the parcels of an earlier one', async () => {
    await runInDurableObject(env.RELAYS.getByName(newId()), (_relay, state) => {
      const store = new RelayStore(state.storage.sql)
      const room = newId()
      store.take(room, batch(1, 6), 0)
      const first = store.load(3, 10)!
      const second = store.load(3, 0, first.throughN)!
      expect(second.rooms.get(room)!.messages.map((m) => m.seq)).toEqual([4, 5, 6])
      store.landed(second, room)
      // 1..3 are still on their way: nothing of this room has landed yet.
      expect(store.landing(room).landedThrough).toBe(0)
      store.landed(first, room)
      expect(store.landing(room).landedThrough).toBe(6)
      expect(store.held()).toBe(0)
    })
  })
})

describe('Relay Durable Object', () => {
  it("ships many rooms' batches to the origin in one shipment, and tells each room how far it landed", async () => {
    const relay = env.RELAYS.getByName(`relay-test-${newId()}`)
    const rooms = Array.from({ length: 20 }, () => newId())
    for (const room of rooms) {
      expect(await relay.take(room, batch(1, 5))).toEqual({ landedThrough: 0, setAside: 0 })
    }
    // It ships on its own after the gathering window (a timer; the alarm is the safety net).
    const deadline = Date.now() + 10_000
    while ((await relay.stats()).held > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
    }
    const stats = await relay.stats()
    expect(stats).toMatchObject({ held: 0, setAside: 0 })
    // Twenty rooms' hand-overs travel together: a shipment or two, not one per room.
    expect(stats.shipments).toBeGreaterThanOrEqual(1)
    expect(stats.shipments).toBeLessThanOrEqual(2)
    for (const room of rooms) expect((await relay.landing(room)).landedThrough).toBe(5)
    // The next hand-over's answer carries the landing too.
    expect(await relay.take(rooms[0]!, batch(6, 6))).toEqual({ landedThrough: 5, setAside: 0 })
  })
})
