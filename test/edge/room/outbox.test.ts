import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../../edge/backoff'
import { type Courier, type OutboxOptions, RoomOutbox } from '../../../edge/room/outbox'
import type { RoomStore } from '../../../edge/room/store'
import { newId } from '../../../shared/ids'
import { INGEST_MAX_ITEMS, type IngestBody } from '../../../shared/internal/ingest'
import { appendMany, sleep, withRoomStorage } from './support'

const options: OutboxOptions = {
  batch: 3,
  delayMs: 10,
  checkMs: 20,
  safetyMs: 60_000,
  maxBackoffMs: 30_000,
  window: 2,
  pruneEvery: 1,
  limit: 10_000,
}

/**
 * A relay in memory: keeps what it takes; `landAll` lands everything taken so far (the
 * real relay lands when the origin has stored it). `down` makes every call fail.
 */
function fakeRelay() {
  const taken: IngestBody[] = []
  const state = { landed: 0, setAside: 0, down: false, calls: 0 }
  let highest = 0
  const landing = () => ({ landedThrough: state.landed, setAside: state.setAside })
  const courier: Courier = {
    async take(batch) {
      state.calls++
      if (state.down) throw new Error('relay unreachable')
      taken.push(batch)
      highest = Math.max(highest, batch.messages.at(-1)?.seq ?? 0)
      return landing()
    },
    async landing() {
      state.calls++
      if (state.down) throw new Error('relay unreachable')
      return landing()
    },
  }
  return { courier, taken, state, landAll: () => (state.landed = highest) }
}

function outboxOn(store: RoomStore, courier: Courier) {
  const alarms: number[] = []
  const failures: number[] = []
  const clock = {
    getAlarm: async () => alarms.at(-1) ?? null,
    setAlarm: async (at: number) => {
      alarms.push(at)
    },
  }
  const outbox = new RoomOutbox(store, courier, clock, options, {
    shipFailed: ({ retryInMs }) => failures.push(retryInMs),
  })
  return { outbox, alarms, failures }
}

describe('RoomOutbox', () => {
  it('hands over in seq order, in batches, read markers riding the first; forgets only what has landed', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 7)
      const reader = newId()
      store.recordRead(reader, 4)
      const relay = fakeRelay()
      const { outbox } = outboxOn(store, relay.courier)
      expect(outbox.size).toBe(7)
      await outbox.drain()
      expect(relay.taken.map((b) => b.messages.map((m) => m.seq))).toEqual([
        [1, 2, 3],
        [4, 5, 6],
        [7],
      ])
      expect(relay.taken.map((b) => b.reads)).toEqual([[{ user: reader, seq: 4 }], [], []])
      expect(relay.taken[0]!.messages[0]).toMatchObject({ seq: 1, body: 'm1', clientMsgId: 'c-1' })
      expect(store.readMarkers()).toEqual([])
      // Handed over is not landed: the room holds all 7, and counts them against its bound.
      expect(outbox.size).toBe(7)
      expect(store.lowestHeld()).toBe(1)
      relay.landAll()
      await sleep(options.checkMs * 3)
      expect(outbox.size).toBe(0)
      expect(store.landedThrough()).toBe(7)
      // The window keeps the newest 2 for replay.
      expect(store.lowestHeld()).toBe(6)
    })
  })

  it('learns landings from the answer to its next hand-over, and hands a message over without a storage alarm per message', async () => {
    await withRoomStorage(async (_storage, store) => {
      const relay = fakeRelay()
      const { outbox, alarms } = outboxOn(store, relay.courier)
      for (let i = 0; i < 5; i++) {
        appendMany(store, 1)
        outbox.added()
        await sleep(options.delayMs * 2)
        relay.landAll()
      }
      expect(relay.taken.flatMap((b) => b.messages.map((m) => m.seq))).toEqual([1, 2, 3, 4, 5])
      // One safety alarm for the whole run, not one per message.
      expect(alarms).toHaveLength(1)
      expect(store.landedThrough()).toBeGreaterThanOrEqual(4)
    })
  })

  it('hands over at once when a full batch waits, not after the gathering delay', async () => {
    await withRoomStorage(async (_storage, store) => {
      const relay = fakeRelay()
      const outbox = new RoomOutbox(
        store,
        relay.courier,
        { getAlarm: async () => null, setAlarm: async () => {} },
        { ...options, delayMs: 60_000 },
        { shipFailed: () => {} },
      )
      for (let i = 0; i < options.batch; i++) {
        appendMany(store, 1)
        outbox.added()
      }
      await sleep(50)
      expect(relay.taken.map((b) => b.messages.length)).toEqual([options.batch])
    })
  })

  it('hands everything not landed over again, at once, when its relay says it restarted', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 4)
      const relay = fakeRelay()
      const { outbox } = outboxOn(store, relay.courier)
      await outbox.drain()
      expect(relay.taken.flatMap((b) => b.messages.map((m) => m.seq))).toEqual([1, 2, 3, 4])
      // The relay restarts before shipping: it holds nothing, and its first answer says so.
      relay.taken.length = 0
      const take = relay.courier.take
      let restarted = true
      const sinces: number[] = []
      relay.courier.take = async (batch, since) => {
        sinces.push(since)
        if (restarted && batch.messages[0]!.seq > since + 1) {
          restarted = false
          return { landedThrough: 0, setAside: 0, resend: true }
        }
        return take(batch, since)
      }
      appendMany(store, 1)
      outbox.added()
      await outbox.drain()
      // Seq 5 was refused (a gap); 1..5 went again in the same drain, in order.
      expect(relay.taken.flatMap((b) => b.messages.map((m) => m.seq))).toEqual([1, 2, 3, 4, 5])
      expect(sinces).toEqual([0, 0, 0])
      expect(outbox.size).toBe(5)
    })
  })

  it('keeps what failed to hand over, retries with a growing backoff, and resets it after a success', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 2)
      const relay = fakeRelay()
      relay.state.down = true
      const { outbox, failures } = outboxOn(store, relay.courier)
      for (let i = 0; i < 5; i++) expect(await outbox.handOver()).toBe('failed')
      expect(outbox.size).toBe(2)
      expect(store.unshipped(10).map((m) => m.seq)).toEqual([1, 2])
      expect(store.counter('shipAttempt')).toBe(5)
      // Each delay is at least half its ceiling, and the ceilings double: 500, 1000, … 8000 ms.
      failures.forEach((delay, i) => {
        const ceiling = 250 * 2 ** (i + 1)
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2)
        expect(delay).toBeLessThanOrEqual(ceiling)
      })
      relay.state.down = false
      expect(await outbox.handOver()).toBe('done')
      expect(store.unshipped(10)).toEqual([])
      expect(store.counter('shipAttempt')).toBe(0)
    })
  })

  it('counts what the origin set aside, as the relay reports it, and goes on', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 3)
      const relay = fakeRelay()
      const { outbox } = outboxOn(store, relay.courier)
      await outbox.handOver()
      relay.state.setAside = 3
      relay.landAll()
      appendMany(store, 1)
      await outbox.handOver()
      expect(store.counter('setAside')).toBe(3)
      expect(store.landedThrough()).toBe(3)
      expect(outbox.size).toBe(1)
    })
  })

  it('never hands over more read markers at once than one shipment may carry', async () => {
    await withRoomStorage(async (_storage, store) => {
      for (let i = 0; i < INGEST_MAX_ITEMS + 5; i++) store.recordRead(newId(), 1)
      const relay = fakeRelay()
      const { outbox } = outboxOn(store, relay.courier)
      await outbox.handOver()
      await outbox.handOver()
      expect(relay.taken.map((b) => b.reads.length)).toEqual([INGEST_MAX_ITEMS, 5])
      expect(store.readMarkers()).toEqual([])
    })
  })

  it('backoff grows, is capped, and is jittered within [ceiling/2, ceiling]', () => {
    expect(backoffDelay(1, 30_000, 0)).toBe(250)
    expect(backoffDelay(1, 30_000, 1)).toBe(500)
    expect(backoffDelay(3, 30_000, 1)).toBe(2_000)
    expect(backoffDelay(10, 30_000, 1)).toBe(30_000)
    expect(backoffDelay(50, 30_000, 0)).toBe(15_000)
  })
})
