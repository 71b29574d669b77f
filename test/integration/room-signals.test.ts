import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import { scrape } from '../support/metrics'
import { privateRedis } from '../support/redis-server'
import { createRoom, join, rawSocket, registerUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// The rooms' signals in the origin's /metrics (observability issue): rooms report to their
// relay, relays write to Redis off every request's path, the origin exports them. A
// private Redis, so no other suite's relays write the same gauges; reports every 200 ms.
let stack: Stack
let redis: Awaited<ReturnType<typeof privateRedis>>

beforeAll(async () => {
  redis = await privateRedis()
  stack = await startTestStack({
    redisUrl: redis.url,
    edgeVars: { SIGNALS_INTERVAL_MS: '200', ROOM_REPLAY_MAX_MESSAGES: '2' },
  })
}, 60_000)

afterAll(async () => {
  await stack?.stop()
  await redis?.stop()
})

const metrics = () => scrape(stack.urls.metrics)

describe("the rooms' signals", () => {
  it('exports sockets open, the fullest room, messages accepted, replays and gaps, shipments', async () => {
    const [ada, bob, cy] = await Promise.all(
      ['Ada', 'Bob', 'Cy'].map((n) => registerUser(stack, n)),
    )
    const big = await createRoom(stack, ada!)
    const small = await createRoom(stack, bob!)
    const inBig = await Promise.all([ada!, bob!, cy!].map((u) => join(stack, u, big)))
    const inSmall = await join(stack, bob!, small)
    for (let n = 1; n <= 4; n++) await inBig[0]!.send(`m${n}`)
    await inSmall.send('hello')

    await until(
      'sockets and accepted messages in /metrics',
      async () => {
        const m = await metrics()
        return m('plaza_room_sockets_open') === 4 && m('plaza_room_messages_accepted_total') === 5
      },
      10_000,
    )
    let m = await metrics()
    expect(m('plaza_room_sockets_max')).toBe(3)
    await until('the messages in MySQL, shipped', async () => {
      const now = await metrics()
      return (
        now('plaza_outbox_messages') === 0 &&
        now('plaza_relay_shipments_total', { outcome: 'sent' }) > 0
      )
    })

    // A socket that resumes from 0: two messages replayed, the two older ones as one gap.
    const raw = await rawSocket(stack, big, cy!.token)
    await until('welcome', () => raw.frames.some((f) => f.type === 'welcome'))
    raw.ws.send(JSON.stringify({ type: 'resume', lastSeq: 0 }))
    await until('the replay', () => raw.frames.some((f) => f.type === 'gap'))
    await until(
      'the replay counted',
      async () => (await metrics())('plaza_room_replays_total', { frames: 'replay' }) === 1,
      10_000,
    )
    m = await metrics()
    expect(m('plaza_room_replays_total', { frames: 'gap' })).toBe(1)
    expect(m('plaza_room_sockets_open')).toBe(5)
    expect(m('plaza_room_sockets_max')).toBe(4)

    // Sockets that close are counted out.
    raw.ws.close()
    for (const room of inBig) room.close()
    await until(
      'the big room empty in /metrics',
      async () => {
        const now = await metrics()
        return now('plaza_room_sockets_open') === 1 && now('plaza_room_sockets_max') === 1
      },
      10_000,
    )
    inSmall.close()
    await until(
      'no sockets',
      async () => (await metrics())('plaza_room_sockets_open') === 0,
      10_000,
    )
  })
})
