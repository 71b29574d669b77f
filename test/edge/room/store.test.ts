import { describe, expect, it } from 'vitest'
import { RoomStore } from '../../../edge/room/store'
import { newId } from '../../../shared/ids'
import { appendMany, withRoomStorage } from './support'

describe('RoomStore', () => {
  it('numbers messages gaplessly, and its numbering survives a new instance on the same storage', async () => {
    await withRoomStorage((storage, store) => {
      expect(appendMany(store, 3)).toEqual([1, 2, 3])
      const again = new RoomStore(storage.sql)
      expect(again.seq).toBe(3)
      expect(appendMany(again, 1)).toEqual([4])
    })
  })

  it('remembers the ack of each (author, clientMsgId), so a retried send gets the original', async () => {
    await withRoomStorage((_storage, store) => {
      const author = newId()
      const first = store.append({
        id: newId(),
        author,
        clientMsgId: 'x',
        body: 'hi',
        createdAt: 1,
      })
      if (!('stored' in first)) throw new Error('the first send must be stored')
      const m = first.stored
      expect(store.previousAck(author, 'x')).toEqual({ seq: m.seq, id: m.id })
      // Sent again: nothing new is numbered or stored, the original ack comes back.
      const again = store.append({
        id: newId(),
        author,
        clientMsgId: 'x',
        body: 'hi',
        createdAt: 2,
      })
      expect(again).toEqual({ previous: { seq: m.seq, id: m.id } })
      expect(store.seq).toBe(m.seq)
      expect(store.range({ after: 0, limit: 10 })).toHaveLength(1)
      expect(store.previousAck(newId(), 'x')).toBeUndefined()
      expect(store.previousAck(author, 'y')).toBeUndefined()
    })
  })

  it('serves ranges oldest first: the newest page below `before`, the oldest above `after`', async () => {
    await withRoomStorage((_storage, store) => {
      appendMany(store, 10)
      expect(store.range({ limit: 3 }).map((m) => m.seq)).toEqual([8, 9, 10])
      expect(store.range({ before: 5, limit: 3 }).map((m) => m.seq)).toEqual([2, 3, 4])
      expect(store.range({ after: 5, limit: 3 }).map((m) => m.seq)).toEqual([6, 7, 8])
      expect(store.range({ after: 2, before: 5, limit: 10 }).map((m) => m.seq)).toEqual([3, 4])
    })
  })

  it('prunes landed messages beyond the window, never one that has not landed in MySQL', async () => {
    await withRoomStorage((_storage, store) => {
      appendMany(store, 10)
      store.markShipped(8) // handed to the relay…
      store.recordLanding({ landedThrough: 3, setAside: 0 }) // …and only 1..3 are in MySQL
      store.prune(2, Date.now())
      // 1..3 are beyond the window of 2 and landed: gone. 4..8 wait at the relay: kept.
      expect(store.lowestHeld()).toBe(4)
      expect(store.range({ after: 0, limit: 20 }).map((m) => m.seq)).toEqual([4, 5, 6, 7, 8, 9, 10])
      store.markShipped(10)
      store.recordLanding({ landedThrough: 10, setAside: 0 })
      store.prune(2, Date.now())
      expect(store.lowestHeld()).toBe(9)
      expect(store.countUnshipped()).toBe(0)
      // Landings only move forward, and never past what the room handed out.
      store.recordLanding({ landedThrough: 5, setAside: 0 })
      expect(store.landedThrough()).toBe(10)
      store.recordLanding({ landedThrough: 99, setAside: 0 })
      expect(store.landedThrough()).toBe(10)
    })
  })

  it('moves read markers only forward, and keeps one that moved on while it was shipping', async () => {
    await withRoomStorage((_storage, store) => {
      const user = newId()
      store.recordRead(user, 5)
      store.recordRead(user, 3)
      const shipping = store.readMarkers()
      expect(shipping).toEqual([{ user, seq: 5 }])
      store.recordRead(user, 7)
      store.clearReads(shipping)
      expect(store.readMarkers()).toEqual([{ user, seq: 7 }])
      store.clearReads(store.readMarkers())
      expect(store.readMarkers()).toEqual([])
    })
  })
})
