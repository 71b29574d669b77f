import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MessageFrame, RoomConnection } from '../../client/src/index'
import type { Stack } from '../../dev/stack'
import { messageCount, select } from '../support/db'
import { databaseUrl } from '../support/env'
import { createRoom, join, registerUser, type TestUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// Must-show 1: 50 members in one room, 10 of them sending 100 messages each at once.
// Flood limits are raised so the senders go as fast as acks come back (the SDK paces to
// whatever the room advertises; the defaults would stretch this to ~6 s of sending).
let stack: Stack
let db: mysql.Connection

beforeAll(async () => {
  stack = await startTestStack({
    edgeVars: { ROOM_FLOOD_PER_SECOND: '500', ROOM_FLOOD_BURST: '200' },
  })
  db = await mysql.createConnection(databaseUrl('plaza_it'))
}, 60_000)

afterAll(async () => {
  await db?.end()
  await stack?.stop()
})

describe('fan-out in one room', () => {
  it('50 clients, 10 senders × 100: everyone gets all 1,000 in one order, gapless, no duplicate; MariaDB has exactly those rows', async () => {
    const users: TestUser[] = []
    for (let i = 0; i < 50; i++) users.push(await registerUser(stack, `Member${i}`))
    const roomId = await createRoom(stack, users[0]!)
    const rooms: RoomConnection[] = await Promise.all(users.map((u) => join(stack, u, roomId)))
    const received = rooms.map(() => [] as MessageFrame[])
    for (const [i, room] of rooms.entries()) room.on('message', (m) => received[i]!.push(m))

    const senders = rooms.slice(0, 10)
    const acks = await Promise.all(
      senders.map((room, s) =>
        Promise.all(Array.from({ length: 100 }, (_, k) => room.send(`sender ${s} message ${k}`))),
      ),
    )
    const ackedSeqs = acks.flat().map((a) => a.seq)
    expect(new Set(ackedSeqs).size).toBe(1000)

    await until(
      'every client has 1,000 messages',
      () => received.every((r) => r.length >= 1000),
      30_000,
    )
    const reference = received[0]!.map((m) => `${m.seq}:${m.id}`)
    expect(received[0]!.map((m) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
    for (const r of received) {
      expect(r).toHaveLength(1000)
      expect(r.map((m) => `${m.seq}:${m.id}`)).toEqual(reference)
    }
    // Each sender's own messages arrive in the order it sent them.
    for (let s = 0; s < 10; s++) {
      const mine = received[20]!.filter((m) => m.body.startsWith(`sender ${s} `)).map((m) => m.body)
      expect(mine).toEqual(Array.from({ length: 100 }, (_, k) => `sender ${s} message ${k}`))
    }

    await until(
      'MariaDB holds all 1,000',
      async () => (await messageCount(db, roomId)) === 1000,
      30_000,
    )
    const rows = await select<{ seq: number; id: string; body: string }>(
      db,
      'SELECT seq, id, body FROM messages WHERE room_id = ? ORDER BY seq',
      [roomId],
    )
    expect(rows.map((r) => `${r.seq}:${r.id}`)).toEqual(reference)
    expect(rows.map((r) => r.body)).toEqual(received[0]!.map((m) => m.body))
    for (const room of rooms) room.close()
  }, 120_000)
})
