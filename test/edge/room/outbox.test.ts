import { describe, expect, it } from 'vitest'
import { backoffDelay, type OutboxOptions, RoomOutbox } from '../../../edge/room/outbox'
import { ShipmentRefused } from '../../../edge/room/shipment'
import type { RoomStore } from '../../../edge/room/store'
import { newId } from '../../../shared/ids'
import { INGEST_MAX_ITEMS, type IngestBody } from '../../../shared/internal/ingest'
import { appendMany, withRoomStorage } from './support'

const options: OutboxOptions = {
  batch: 3,
  concurrency: 2,
  delayMs: 10,
  maxBackoffMs: 30_000,
  window: 2,
}

function outboxOn(store: RoomStore, ship: (batch: IngestBody) => Promise<void>) {
  const alarms: number[] = []
  const failures: number[] = []
  const clock = {
    getAlarm: async () => alarms.at(-1) ?? null,
    setAlarm: async (at: number) => {
      alarms.push(at)
    },
  }
  const setAside: Array<{ messages: number; status: number }> = []
  const outbox = new RoomOutbox(store, ship, clock, options, {
    shipFailed: ({ retryInMs }) => failures.push(retryInMs),
    setAside: ({ messages, status }) => setAside.push({ messages, status }),
  })
  return { outbox, alarms, failures, setAside }
}

describe('RoomOutbox', () => {
  it('ships in batches, several at once, with read markers riding the first', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 7)
      const reader = newId()
      store.recordRead(reader, 4)
      const shipped: IngestBody[] = []
      const { outbox } = outboxOn(store, async (b) => {
        shipped.push(b)
      })
      expect(outbox.size).toBe(7)
      await outbox.drain()
      expect(shipped.map((b) => b.messages.map((m) => m.seq))).toEqual([[1, 2, 3], [4, 5, 6], [7]])
      expect(shipped.map((b) => b.reads)).toEqual([[{ user: reader, seq: 4 }], [], []])
      expect(shipped[0]!.messages[0]).toMatchObject({ seq: 1, body: 'm1', clientMsgId: 'c-1' })
      expect(typeof shipped[0]!.messages[0]!.createdAt).toBe('number')
      expect(outbox.size).toBe(0)
      expect(store.readMarkers()).toEqual([])
      // The window keeps the newest 2 shipped messages for replay.
      expect(store.lowestHeld()).toBe(6)
    })
  })

  it('keeps what failed to ship, retries with a growing backoff, and resets it after a success', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 2)
      let down = true
      const { outbox, failures } = outboxOn(store, async () => {
        if (down) throw new Error('origin down')
      })
      for (let i = 0; i < 5; i++) expect(await outbox.shipOnce()).toBe('failed')
      expect(outbox.size).toBe(2)
      expect(store.lowestHeld()).toBe(1)
      expect(store.counter('shipAttempt')).toBe(5)
      // Each delay is at least half its ceiling, and the ceilings double: 500, 1000, … 8000 ms.
      failures.forEach((delay, i) => {
        const ceiling = 250 * 2 ** (i + 1)
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2)
        expect(delay).toBeLessThanOrEqual(ceiling)
      })
      down = false
      expect(await outbox.shipOnce()).toBe('shipped')
      expect(outbox.size).toBe(0)
      expect(store.counter('shipAttempt')).toBe(0)
    })
  })

  it('marks a batch that landed shipped even when another of the same round failed', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 6)
      const { outbox } = outboxOn(store, async (b) => {
        if (b.messages[0]!.seq === 1) throw new Error('lost answer')
      })
      expect(await outbox.shipOnce()).toBe('failed')
      expect(outbox.size).toBe(3)
      expect(store.unshipped(10).map((m) => m.seq)).toEqual([1, 2, 3])
      // 4..6 landed, but sit above the unshipped 1..3: the window never crosses them.
      expect(store.lowestHeld()).toBe(1)
    })
  })

  it('sets aside a shipment the origin refuses for good, and keeps shipping and counting', async () => {
    await withRoomStorage(async (_storage, store) => {
      appendMany(store, 6)
      let calls = 0
      const { outbox, setAside, failures } = outboxOn(store, async (b) => {
        calls++
        if (b.messages[0]?.seq === 1) throw new ShipmentRefused(409, 'seq 1 exists with another id')
      })
      expect(await outbox.shipOnce()).toBe('shipped')
      expect(setAside).toEqual([{ messages: 3, status: 409 }])
      expect(failures).toEqual([]) // not a failure to retry
      expect(outbox.size).toBe(0)
      expect(store.setAsideCount()).toBe(3)
      expect(store.counter('shipAttempt')).toBe(0)
      appendMany(store, 1)
      expect(await outbox.shipOnce()).toBe('shipped') // the room goes on
      expect(calls).toBe(3)
    })
  })

  it('never puts more read markers in a shipment than the ingest accepts', async () => {
    await withRoomStorage(async (_storage, store) => {
      for (let i = 0; i < INGEST_MAX_ITEMS + 5; i++) store.recordRead(newId(), 1)
      const sizes: number[] = []
      const { outbox } = outboxOn(store, async (b) => {
        sizes.push(b.reads.length)
      })
      await outbox.drain()
      expect(sizes).toEqual([INGEST_MAX_ITEMS, 5])
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
