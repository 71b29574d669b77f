import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Ack, MessageFrame } from '../../client/src/index'
import type { Stack } from '../../dev/stack'
import { messageCount, select } from '../support/db'
import { privateMariaDb } from '../support/mariadb-server'
import { scrape } from '../support/metrics'
import { privateRedis } from '../support/redis-server'
import { createRoom, join, registerUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// Must-show 2: the origin SIGKILLed and MariaDB stopped in the middle of a run, then
// brought back. A private MariaDB (stopping the shared one would disturb other suites),
// a small outbox (200) so it fills during the outage, and short retry backoff.
let stack: Stack
let mdb: Awaited<ReturnType<typeof privateMariaDb>>
// Its own Redis too: the outbox's gauges read here are no other suite's.
let redis: Awaited<ReturnType<typeof privateRedis>>

beforeAll(async () => {
  mdb = await privateMariaDb()
  redis = await privateRedis()
  stack = await startTestStack({
    databaseUrl: mdb.url('plaza_it'),
    redisUrl: redis.url,
    edgeVars: {
      SIGNALS_INTERVAL_MS: '250',
      ROOM_OUTBOX_LIMIT: '200',
      ROOM_SHIP_BATCH: '100',
      ROOM_SHIP_MAX_BACKOFF_MS: '500',
      ROOM_FLOOD_PER_SECOND: '500',
      ROOM_FLOOD_BURST: '200',
    },
  })
}, 60_000)

afterAll(async () => {
  await stack?.stop()
  await mdb?.destroy()
  await redis?.stop()
})

describe('faults in the middle of a run', () => {
  it('origin SIGKILLed and MariaDB stopped, then back: every acked message is in MariaDB once; a full outbox answers unavailable', async () => {
    const users = await Promise.all(
      Array.from({ length: 8 }, (_, i) => registerUser(stack, `F${i}`)),
    )
    const roomId = await createRoom(stack, users[0]!)
    const rooms = await Promise.all(users.map((u) => join(stack, u, roomId)))
    const received: MessageFrame[] = []
    rooms[7]!.on('message', (m) => received.push(m))
    let unavailable = 0
    for (const room of rooms) {
      room.on('retrying', (r) => {
        if (r.code === 'unavailable') unavailable++
      })
    }
    const acks: Ack[] = []
    const senders = rooms.slice(0, 5).map(async (room, s) => {
      for (let k = 0; k < 200; k++) {
        // Fire and keep going; the SDK keeps order and retries what the room refuses.
        room.send(`f${s}-${k}`).then((a) => acks.push(a))
        await new Promise((r) => setTimeout(r, 10))
      }
    })

    await until('150 acks before the faults', () => acks.length >= 150, 30_000)
    await stack.origin.kill()
    await until('the outbox to fill and refuse', () => unavailable > 0, 30_000)
    const ackedDuringOutage = acks.length
    await mdb.stop()
    await stack.restartOrigin()
    // Origin up, database down: shipments keep failing; nothing is acked past the bound.
    await new Promise((r) => setTimeout(r, 1500))
    expect(acks.length).toBe(ackedDuringOutage)
    // What an operator sees meanwhile: messages waiting, the oldest ageing, shipments failing.
    await until(
      'the outage in /metrics',
      async () => {
        const m = await scrape(stack.urls.metrics)
        return (
          m('plaza_outbox_messages') > 0 &&
          m('plaza_outbox_oldest_age_seconds') > 2 &&
          m('plaza_relay_shipments_total', { outcome: 'failed' }) > 0
        )
      },
      20_000,
    )
    await mdb.start()

    await Promise.all(senders)
    await until('all 1,000 acked', () => acks.length === 1000, 90_000)
    const db = await mysql.createConnection(mdb.url('plaza_it'))
    try {
      await until(
        'MariaDB to hold every acked message',
        async () => (await messageCount(db, roomId)) === 1000,
        60_000,
      )
      const rows = await select<{ seq: number; id: string; client_msg_id: string }>(
        db,
        'SELECT seq, id, client_msg_id FROM messages WHERE room_id = ? ORDER BY seq',
        [roomId],
      )
      const stored = new Map(rows.map((r) => [Number(r.seq), r.id]))
      for (const ack of acks) expect(stored.get(ack.seq)).toBe(ack.id)
      expect(new Set(rows.map((r) => r.client_msg_id)).size).toBe(1000)
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
    } finally {
      await db.end()
    }
    expect(unavailable).toBeGreaterThan(0)
    await until('the listener has all 1,000', () => received.length === 1000, 30_000)
    expect(received.map((m) => m.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
    await until('the outbox empty again in /metrics', async () => {
      const m = await scrape(stack.urls.metrics)
      return m('plaza_outbox_messages') === 0 && m('plaza_outbox_oldest_age_seconds') === 0
    })
    for (const room of rooms) room.close()
  }, 240_000)
})
