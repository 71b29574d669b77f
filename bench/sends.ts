import autocannon from 'autocannon'
import type WebSocket from 'ws'
import { roomStats } from '../dev/room-stats'
import type { Stack } from '../dev/stack'
import { benchRoom, benchUser, openRoomSocket, startRoomStack } from './rooms'
import { quantile, workerdCpuSeconds } from './workerd'

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const senders = Number(process.env.BENCH_SENDERS ?? 10)
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 20)

export interface SendRow {
  name: string
  sendsPerSec: number
  p50: number
  p99: number
  refused: number
  cpuMsPerSend: number
}

/** WebSocket sends, `inFlight` unacked per socket, for `seconds`: acked/s and refusals. */
export async function socketSends(
  sockets: WebSocket[],
  inFlight: number,
): Promise<{ acked: number; refused: number; codes: Map<string, number>; latencies: number[] }> {
  let acked = 0
  let refused = 0
  const codes = new Map<string, number>()
  const latencies: number[] = []
  const until = Date.now() + seconds * 1000
  let n = 0
  await Promise.all(
    sockets.map(
      (ws, s) =>
        new Promise<void>((resolve, reject) => {
          // A socket the room closes (it stopped reading, say) would leave its sends unanswered.
          ws.once('close', (code, reason) =>
            reject(
              new Error(`socket ${s} closed with ${code} ${reason} and ${open} sends unanswered`),
            ),
          )
          const sentAt = new Map<string, number>()
          let open = 0
          const pump = () => {
            while (open < inFlight && Date.now() < until) {
              const id = `b${s}-${++n}`
              sentAt.set(id, performance.now())
              ws.send(JSON.stringify({ type: 'send', clientMsgId: id, body: 'x'.repeat(100) }))
              open++
            }
            if (open === 0 && Date.now() >= until) resolve()
          }
          ws.on('message', (data) => {
            const text = String(data)
            if (text === 'pong') return
            const parsed = JSON.parse(text)
            for (const f of Array.isArray(parsed) ? parsed : [parsed]) {
              if (f.type !== 'ack' && !(f.type === 'error' && f.clientMsgId)) continue
              open--
              if (f.type === 'ack') {
                acked++
                latencies.push(performance.now() - (sentAt.get(f.clientMsgId) ?? 0))
              } else {
                refused++
                codes.set(f.code, (codes.get(f.code) ?? 0) + 1)
              }
              sentAt.delete(f.clientMsgId)
            }
            pump()
          })
          pump()
        }),
    ),
  )
  return { acked, refused, codes, latencies }
}

/** Seconds until the room holds nothing unlanded (at most two minutes). */
async function drained(stack: Stack, roomId: string): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < 120_000) {
    if ((await roomStats(stack, roomId)).unshipped === 0) break
    await new Promise((r) => setTimeout(r, 250))
  }
  return Math.round((Date.now() - started) / 100) / 10
}

/**
 * `npm run bench -- sends`: one room's send ceiling — acked WebSocket sends/s (BENCH_SENDERS sockets,
 * BENCH_IN_FLIGHT in flight each) and HTTP sends/s (autocannon), with workerd's CPU per send.
 */
export async function benchSends(): Promise<SendRow[]> {
  // The senders also receive every broadcast, in this one process: past ~2,500 sends/s it
  // fell 4 MiB behind reading and the room closed its sockets (4408), which is the room
  // doing its job, not its send ceiling. What they may owe is raised for this bench only.
  const stack = await startRoomStack({ ROOM_SOCKET_MAX_UNREAD_BYTES: String(64 << 20) })
  const rows: SendRow[] = []
  try {
    const users = await Promise.all(
      Array.from({ length: senders }, (_, i) => benchUser(stack, `S${i}`)),
    )
    const roomId = await benchRoom(stack, users[0]!.token)
    const sockets = await Promise.all(
      users.map((u) => openRoomSocket(stack.urls.edge, roomId, u.token)),
    )
    process.stdout.write(`  WebSocket sends (${senders} sockets × ${inFlight} in flight)… `)
    const cpu0 = workerdCpuSeconds()
    const ws = await socketSends(sockets, inFlight)
    const cpuWs = workerdCpuSeconds() - cpu0
    for (const s of sockets) s.close()
    rows.push({
      name: 'WebSocket sends, acked',
      sendsPerSec: Math.round(ws.acked / seconds),
      p50: quantile(ws.latencies, 0.5, 1),
      p99: quantile(ws.latencies, 0.99, 1),
      refused: ws.refused,
      cpuMsPerSend: Math.round((cpuWs * 1000 * 1000) / Math.max(1, ws.acked)) / 1000,
    })
    const why = [...ws.codes].map(([code, n]) => `${n} ${code}`).join(', ')
    console.log(`${rows[0]!.sendsPerSec}/s, ${ws.refused} refused${why ? ` (${why})` : ''}`)

    // The HTTP step starts from an empty outbox: the WebSocket step's backlog would
    // otherwise answer its first seconds `unavailable` (measured: 5,000 of them).
    process.stdout.write('  waiting for the room to learn every message landed… ')
    const drainedIn = await drained(stack, roomId)
    console.log(`${drainedIn} s`)
    process.stdout.write(`  HTTP sends (${connections} connections)… `)
    let k = 0
    const cpu1 = workerdCpuSeconds()
    const r = await autocannon({
      url: `${stack.urls.edge}/v1/rooms/${roomId}/messages`,
      connections,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const user = users[++k % users.length]!
            return {
              ...req,
              headers: {
                'content-type': 'application/json',
                authorization: `Bearer ${user.token}`,
              },
              body: JSON.stringify({ clientMsgId: `h-${k}`, body: 'x'.repeat(100) }),
            }
          },
        },
      ],
    })
    const cpuHttp = workerdCpuSeconds() - cpu1
    const ok = r['2xx']
    rows.push({
      name: 'HTTP sends (POST /v1/rooms/:id/messages), 201',
      sendsPerSec: Math.round(ok / seconds),
      p50: r.latency.p50,
      p99: r.latency.p99,
      refused: r.non2xx + r.errors + r.timeouts,
      cpuMsPerSend: Math.round((cpuHttp * 1000 * 1000) / Math.max(1, ok)) / 1000,
    })
    console.log(`${rows[1]!.sendsPerSec}/s`)
  } finally {
    await stack.stop()
  }
  return rows
}
