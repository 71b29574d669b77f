import WebSocket from 'ws'
import { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../shared/protocol'
import { benchRoom, benchUser, roomSocketUrl, startRoomStack } from './rooms'
import { quantile } from './workerd'

/**
 * The seeds' load test (seed 002's Artillery plan), scaled to a bench run: phases of
 * arrivals — warm-up, ramp, sustain, peak, cool-down — each arrival a virtual user running
 * one scenario: 70 % chat (open a socket to a room, send a message, wait for its ack, read
 * the room's history, leave), 30 % reads (a profile, the room list, an old history page,
 * today's room ranking).
 * Reports per phase p50/p95/p99 of every request, the error rate and the cache hit rate,
 * against the seeds' targets (p95 < 500 ms, errors < 0.1 %, hit rate ≥ 85 %).
 * BENCH_MIXED_PHASES: `seconds:arrivals per second`, comma-separated.
 */
const phases = (process.env.BENCH_MIXED_PHASES ?? '10:10,10:75,30:150,10:300,10:10')
  .split(',')
  .map((p, i) => {
    const [seconds, rate] = p.split(':').map(Number)
    const names = ['warm-up', 'ramp', 'sustain', 'peak', 'cool-down']
    return { name: names[i] ?? `phase ${i + 1}`, seconds: seconds!, rate: rate! }
  })

export interface MixedRow {
  phase: string
  arrivalsPerSecond: number
  requests: number
  p50: number
  p95: number
  p99: number
  errorRate: number
  hitRate: number
}

interface Tally {
  latencies: number[]
  errors: number
  hits: number
  cacheable: number
}

type Fixture = {
  edge: string
  users: Array<{ id: string; token: string }>
  rooms: string[]
}

const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!

async function timed(tally: Tally, run: () => Promise<Response>): Promise<Response | undefined> {
  const started = performance.now()
  try {
    const res = await run()
    await res.arrayBuffer()
    tally.latencies.push(performance.now() - started)
    if (!res.ok) tally.errors++
    const cache = res.headers.get('x-cache')
    if (cache && cache !== 'BYPASS') {
      tally.cacheable++
      if (cache === 'HIT') tally.hits++
    }
    return res
  } catch {
    tally.errors++
    return undefined
  }
}

/** 70 %: a socket to a room, one message acked, the room's history read, the socket closed. */
async function chat(f: Fixture, tally: Tally): Promise<void> {
  const user = pick(f.users)
  const room = pick(f.rooms)
  const started = performance.now()
  const ws = new WebSocket(roomSocketUrl(f.edge, room), [
    PROTOCOL,
    `${TOKEN_PROTOCOL_PREFIX}${user.token}`,
  ])
  const ok = await new Promise<boolean>((resolve) => {
    const clientMsgId = `m${Math.random().toString(36).slice(2)}`
    let sentAt = 0
    const timer = setTimeout(() => resolve(false), 10_000)
    ws.on('message', (raw) => {
      const text = String(raw)
      if (text.startsWith('{"type":"welcome"')) {
        tally.latencies.push(performance.now() - started)
        sentAt = performance.now()
        ws.send(JSON.stringify({ type: 'send', clientMsgId, body: 'Hello from the load test' }))
      } else if (text.startsWith('{"type":"ack"')) {
        tally.latencies.push(performance.now() - sentAt)
        clearTimeout(timer)
        resolve(true)
      } else if (text.startsWith('{"type":"error"')) {
        clearTimeout(timer)
        resolve(false)
      }
    })
    ws.on('error', () => resolve(false))
  })
  ws.close()
  if (!ok) tally.errors++
  await timed(tally, () =>
    fetch(`${f.edge}/v1/rooms/${room}/messages?limit=50`, {
      headers: { authorization: `Bearer ${user.token}` },
    }),
  )
}

/**
 * 30 %: a profile, the room list, an old (immutable, cacheable) page of a room's history,
 * and today's room ranking (the dashboards' public part; the admin dashboards are limited
 * to 10–30 a minute per admin, no load for a scenario of many users).
 */
async function reads(f: Fixture, tally: Tally): Promise<void> {
  const auth = { authorization: `Bearer ${pick(f.users).token}` }
  await timed(tally, () => fetch(`${f.edge}/v1/profiles/${pick(f.users).id}`, { headers: auth }))
  await timed(tally, () => fetch(`${f.edge}/v1/rooms?limit=20`, { headers: auth }))
  await timed(tally, () =>
    fetch(`${f.edge}/v1/rooms/${pick(f.rooms)}/messages?before=51&limit=50`, { headers: auth }),
  )
  await timed(tally, () => fetch(`${f.edge}/v1/rankings/rooms?period=day`, { headers: auth }))
}

async function fixture(edge: string, stack: Parameters<typeof benchUser>[0]): Promise<Fixture> {
  const users = []
  for (let u = 0; u < 50; u++) users.push(await benchUser(stack, `Load${u}`))
  const rooms: string[] = []
  for (let r = 0; r < 20; r++) {
    const owner = users[r % users.length]!
    const room = await benchRoom(stack, owner.token)
    rooms.push(room)
    // History for the reads: 60 messages, so `before=51` is a full, old, cacheable page.
    for (let m = 0; m < 60; m++) {
      await fetch(`${edge}/v1/rooms/${room}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({ clientMsgId: `seed-${m}`, body: `seed ${m}` }),
      })
    }
  }
  return { edge, users, rooms }
}

export async function benchMixed(): Promise<MixedRow[]> {
  const stack = await startRoomStack()
  try {
    process.stdout.write('  seeding 50 users, 20 rooms × 60 messages… ')
    const f = await fixture(stack.urls.edge, stack)
    // Let the seeded messages land in MySQL, so old pages are cacheable.
    await new Promise((r) => setTimeout(r, 3_000))
    console.log('done')
    const rows: MixedRow[] = []
    for (const phase of phases) {
      const tally: Tally = { latencies: [], errors: 0, hits: 0, cacheable: 0 }
      const running: Promise<void>[] = []
      const started = performance.now()
      let owed = 0
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (performance.now() - started >= phase.seconds * 1000) {
            clearInterval(timer)
            resolve()
            return
          }
          for (owed += phase.rate / 10; owed >= 1; owed--) {
            running.push(Math.random() < 0.7 ? chat(f, tally) : reads(f, tally))
          }
        }, 100)
      })
      await Promise.all(running)
      const requests = tally.latencies.length + tally.errors
      const row = {
        phase: phase.name,
        arrivalsPerSecond: phase.rate,
        requests,
        p50: quantile(tally.latencies, 0.5, 1),
        p95: quantile(tally.latencies, 0.95, 1),
        p99: quantile(tally.latencies, 0.99, 1),
        errorRate: Math.round((tally.errors / Math.max(requests, 1)) * 10_000) / 100,
        hitRate: Math.round((tally.hits / Math.max(tally.cacheable, 1)) * 1000) / 10,
      }
      console.log(
        `  ${phase.name} (${phase.seconds} s at ${phase.rate} arrivals/s): ${requests} requests, p50 ${row.p50} ms, p95 ${row.p95} ms, p99 ${row.p99} ms, errors ${row.errorRate} %, cache hits ${row.hitRate} %`,
      )
      rows.push(row)
    }
    return rows
  } finally {
    await stack.stop()
  }
}
