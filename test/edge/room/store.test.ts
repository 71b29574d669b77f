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

  it('forgets the acks of sends older than a day, and only those, without an index on their time', async () => {
    await withRoomStorage((storage, store) => {
      const author = newId()
      const now = Date.now()
      const day = 24 * 3600 * 1000
      const send = (clientMsgId: string, createdAt: number) =>
        store.append({ id: newId(), author, clientMsgId, body: 'b', createdAt })
      for (const [id, at] of [
        ['old-1', now - day - 3000],
        ['old-2', now - day - 2000],
        ['new-1', now - day + 1000],
        ['new-2', now - 10],
      ] as const)
        send(id, at)
      store.prune(1000, now)
      expect(store.previousAck(author, 'old-1')).toBeUndefined()
      expect(store.previousAck(author, 'old-2')).toBeUndefined()
      expect(store.previousAck(author, 'new-1')).toBeDefined()
      expect(store.previousAck(author, 'new-2')).toBeDefined()
      // A day later every one has expired (and the next prune comes a minute after the last).
      store.prune(1000, now + 2 * day)
      const left = storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM sent').one().n
      expect(left).toBe(0)
      const indexes = storage.sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sent'",
        )
        .toArray()
        .map((r) => r.name)
      expect(indexes.filter((n) => !n.startsWith('sqlite_autoindex'))).toEqual([])
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
