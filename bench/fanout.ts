import { type ChildProcess, fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Miniflare } from 'miniflare'
import mysql from 'mysql2/promise'
import WebSocket from 'ws'
import { messageCount } from '../dev/database'
import { buildWorker } from '../dev/edge'
import { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../shared/protocol'
import { answerMark } from './marks'
import {
  benchDatabaseUrl,
  benchRedisUrl,
  benchRoom,
  benchUser,
  roomSocketUrl,
  startRoomStack,
} from './rooms'

/**
 * Fan-out, one harness for every system: one room, SUBSCRIBERS sockets held by a separate
 * client process (bench/fanout-subscribers.ts), PUBLISHERS publishers sending ~100-byte
 * messages at stepped rates, then a burst. Systems: Plaza's room (edge in Miniflare
 * directly, messages persisted to MariaDB), Socket.IO 4 + @socket.io/redis-adapter on two
 * Node processes, and a bare `ws` broadcast server.
 */
export interface FanoutRow {
  system: string
  step: string
  offered: number
  deliveriesPerSecond: number
  p50: number
  p99: number
  lost: number
  reordered: number
  /** Share of one core the subscriber process used during the step (client-bound past ~0.9). */
  clientCpu: number
}

const root = fileURLToPath(new URL('..', import.meta.url))
const subscribers = Number(process.env.BENCH_FANOUT_SUBSCRIBERS ?? 1000)
const publishers = Number(process.env.BENCH_FANOUT_PUBLISHERS ?? 5)
const stepSeconds = Number(process.env.BENCH_FANOUT_SECONDS ?? 5)
const rates = (process.env.BENCH_FANOUT_RATES ?? '50,100,200,400,800').split(',').map(Number)
const burst = Number(process.env.BENCH_FANOUT_BURST ?? 1000)
const now = () => performance.timeOrigin + performance.now()

type System = 'plaza' | 'socketio' | 'ws'

interface Publisher {
  send(body: string): void
  close(): void
}

function body(step: string, p: number, n: number): string {
  return `${step}|${p}|${n}|${now().toFixed(3)}|`.padEnd(100, 'x')
}

async function openPublisher(
  system: System,
  url: string,
  protocols: string[] = [],
): Promise<Publisher> {
  const ws = new WebSocket(url, protocols, { perMessageDeflate: false })
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (raw) => {
      const data = raw.toString()
      if (system === 'socketio') {
        if (data === '2') ws.send('3')
        else if (data.startsWith('0')) ws.send('40')
        else if (data.startsWith('40')) resolve()
      } else if (system === 'plaza' && data.startsWith('{"type":"welcome"')) resolve()
      else if (system === 'plaza' && answerMark(ws, data)) return
      else if (system === 'plaza' && data.startsWith('{"type":"error"')) {
        console.error(`  publisher refused: ${data}`)
      }
    })
    ws.on('open', () => {
      if (system === 'ws') resolve()
    })
    ws.on('error', reject)
  })
  let n = 0
  return {
    send(text: string) {
      n++
      if (system === 'plaza')
        ws.send(JSON.stringify({ type: 'send', clientMsgId: `p${Date.now()}-${n}`, body: text }))
      else if (system === 'socketio') ws.send(`42${JSON.stringify(['msg', text])}`)
      else ws.send(text)
    },
    close: () => ws.close(),
  }
}

class Subscribers {
  private readonly child: ChildProcess
  private readonly waiting = new Map<string, (value: unknown) => void>()
  constructor() {
    this.child = fork(`${root}bench/fanout-subscribers.ts`, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child.on('message', (msg: { event: string; step?: string; message?: string }) => {
      if (msg.event === 'error') console.error(`  subscribers: ${msg.message}`)
      const key = msg.event === 'report' ? `report:${msg.step}` : msg.event
      this.waiting.get(key)?.(msg)
      this.waiting.delete(key)
    })
  }
  private wait<T>(key: string): Promise<T> {
    return new Promise((resolve) => this.waiting.set(key, resolve as (v: unknown) => void))
  }
  async start(system: System, urls: string[], protocols?: string[]) {
    const ready = this.wait<{ opened: number }>('ready')
    this.child.send({ cmd: 'start', system, urls, protocols, count: subscribers })
    return ready
  }
  report(step: string) {
    const r = this.wait<{
      delivered: number
      p50: number
      p99: number
      reordered: number
      lastAt: number
      cpu: { user: number; system: number }
    }>(`report:${step}`)
    this.child.send({ cmd: 'report', step })
    return r
  }
  async close() {
    this.child.send({ cmd: 'exit' })
    await once(this.child, 'exit')
  }
}

async function runSteps(
  system: string,
  pubs: Publisher[],
  subs: Subscribers,
): Promise<{ rows: FanoutRow[]; sent: number }> {
  const rows: FanoutRow[] = []
  let totalSent = 0
  // Per-publisher message numbers keep growing across steps, so order is checked throughout.
  let n = 0
  const plan = [
    ...rates.map((r) => ({ name: `${r}/s`, rate: r })),
    { name: `burst ${burst}`, rate: 0 },
  ]
  for (const [i, step] of plan.entries()) {
    const tag = `s${i}`
    const startedAt = now()
    const cpuBefore = (await subs.report('cpu-probe')).cpu
    let sent = 0
    if (step.rate) {
      // A tick every 10 ms; each publisher sends its share of the rate, carrying fractions.
      const perTick = step.rate / 100 / pubs.length
      let owed = 0
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const elapsed = (now() - startedAt) / 1000
          if (elapsed >= stepSeconds) {
            clearInterval(timer)
            resolve()
            return
          }
          owed += perTick
          while (owed >= 1) {
            owed -= 1
            for (const [p, pub] of pubs.entries()) {
              pub.send(body(tag, p, n++))
              sent++
            }
          }
        }, 10)
      })
    } else {
      for (let k = 0; k < burst / pubs.length; k++)
        for (const [p, pub] of pubs.entries()) {
          pub.send(body(tag, p, n++))
          sent++
        }
    }
    totalSent += sent
    // Let the backlog drain: done when deliveries stop growing for a second (30 s at most).
    let report = await subs.report(tag)
    for (let quiet = 0, waited = 0; quiet < 4 && waited < 120; waited++) {
      await new Promise((r) => setTimeout(r, 250))
      const next = await subs.report(tag)
      quiet = next.delivered === report.delivered ? quiet + 1 : 0
      report = next
    }
    const expected = sent * subscribers
    const seconds = Math.max(0.001, (report.lastAt - startedAt) / 1000)
    const cpuMs = (report.cpu.user + report.cpu.system - cpuBefore.user - cpuBefore.system) / 1000
    const row: FanoutRow = {
      system,
      step: step.name,
      offered: step.rate || sent,
      deliveriesPerSecond: Math.round(report.delivered / seconds),
      p50: report.p50,
      p99: report.p99,
      lost: expected - report.delivered,
      reordered: report.reordered,
      clientCpu: report.delivered ? Math.round((cpuMs / 1000 / seconds) * 100) / 100 : 0,
    }
    console.log(
      `    ${step.name}: ${row.deliveriesPerSecond} deliveries/s, p50 ${row.p50} ms, p99 ${row.p99} ms, lost ${row.lost}, reordered ${row.reordered}, client cpu ${row.clientCpu}`,
    )
    rows.push(row)
  }
  return { rows, sent: totalSent }
}

async function benchPlaza(): Promise<FanoutRow[]> {
  console.log('  Plaza room (Miniflare, persisted to MariaDB)…')
  const stack = await startRoomStack()
  const subs = new Subscribers()
  try {
    const owner = await benchUser(stack, 'Owner')
    const roomId = await benchRoom(stack, owner.token)
    const listener = await benchUser(stack, 'Listener')
    const url = roomSocketUrl(stack.urls.edge, roomId)
    const ready = await subs.start(
      'plaza',
      [url],
      [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${listener.token}`],
    )
    console.log(`    ${ready.opened} subscribers connected`)
    const pubs: Publisher[] = []
    for (let p = 0; p < publishers; p++) {
      const user = await benchUser(stack, `Publisher${p}`)
      pubs.push(
        await openPublisher('plaza', url, [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${user.token}`]),
      )
    }
    const { rows, sent } = await runSteps('Plaza room', pubs, subs)
    for (const pub of pubs) pub.close()
    // "While persisting every message": every one of them must reach MariaDB.
    const db = await mysql.createConnection(benchDatabaseUrl)
    let stored = 0
    for (let i = 0; i < 300 && stored < sent; i++) {
      stored = await messageCount(db, roomId)
      if (stored < sent) await new Promise((r) => setTimeout(r, 100))
    }
    await db.end()
    console.log(`    persisted: ${stored} of ${sent} messages in MariaDB`)
    if (stored !== sent) throw new Error(`Plaza persisted ${stored} of ${sent} messages`)
    return rows
  } finally {
    await subs.close()
    await stack.stop()
  }
}

/** One id per comparison run: both Socket.IO processes must share the adapter's Redis channel. */
const runId = String(Date.now())

async function startServer(
  mode: 'socketio' | 'ws',
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/fanout-server.ts', mode], {
    cwd: root,
    env: { ...process.env, REDIS_URL: benchRedisUrl, BENCH_RUN: runId },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string]
  const { port } = JSON.parse(line) as { port: number }
  return {
    url:
      mode === 'socketio'
        ? `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`
        : `ws://127.0.0.1:${port}/`,
    stop: async () => {
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

async function benchOther(system: 'socketio' | 'ws'): Promise<FanoutRow[]> {
  const name =
    system === 'socketio' ? 'Socket.IO 4 + Redis adapter (2 processes)' : 'bare ws broadcast'
  console.log(`  ${name}…`)
  const servers =
    system === 'socketio'
      ? [await startServer('socketio'), await startServer('socketio')]
      : [await startServer('ws')]
  const subs = new Subscribers()
  try {
    const urls = servers.map((s) => s.url)
    const ready = await subs.start(system, urls)
    console.log(`    ${ready.opened} subscribers connected`)
    const pubs: Publisher[] = []
    for (let p = 0; p < publishers; p++)
      pubs.push(await openPublisher(system, urls[p % urls.length]!))
    const { rows } = await runSteps(name, pubs, subs)
    for (const pub of pubs) pub.close()
    return rows
  } finally {
    await subs.close()
    for (const s of servers) await s.stop()
  }
}

/**
 * partyserver's relay (bench/partyserver): the library the issue suggested for the room,
 * in the same workerd, one `broadcast()` per message. Frames carry the raw body, as with
 * the bare `ws` server, so the same harness counts them.
 */
async function startPartyserver(): Promise<{ url: string; stop: () => Promise<void> }> {
  const outdir = `${root}.dev/partyserver-build`
  await buildWorker(`${root}bench/partyserver/wrangler.toml`, outdir)
  const mf = new Miniflare({
    modules: true,
    scriptPath: `${outdir}/worker.js`,
    compatibilityDate: '2026-04-20',
    durableObjects: { Relay: { className: 'Relay', useSQLite: true } },
    host: '127.0.0.1',
    port: 0,
    cf: false,
  })
  const base = (await mf.ready).toString().replace(/^http/, 'ws').replace(/\/$/, '')
  return { url: `${base}/parties/relay/bench`, stop: () => mf.dispose() }
}

async function benchPartyserver(): Promise<FanoutRow[]> {
  const name = 'partyserver relay (Miniflare, broadcast per message)'
  console.log(`  ${name}…`)
  const server = await startPartyserver()
  const subs = new Subscribers()
  try {
    const ready = await subs.start('ws', [server.url])
    console.log(`    ${ready.opened} subscribers connected`)
    const pubs: Publisher[] = []
    for (let p = 0; p < publishers; p++) pubs.push(await openPublisher('ws', server.url))
    const { rows } = await runSteps(name, pubs, subs)
    for (const pub of pubs) pub.close()
    return rows
  } finally {
    await subs.close()
    await server.stop()
  }
}

export async function benchFanout(): Promise<FanoutRow[]> {
  const only = process.env.BENCH_FANOUT_SYSTEMS?.split(',') ?? [
    'plaza',
    'partyserver',
    'socketio',
    'ws',
  ]
  const rows: FanoutRow[] = []
  if (only.includes('plaza')) rows.push(...(await benchPlaza()))
  if (only.includes('partyserver')) rows.push(...(await benchPartyserver()))
  if (only.includes('socketio')) rows.push(...(await benchOther('socketio')))
  if (only.includes('ws')) rows.push(...(await benchOther('ws')))
  return rows
}
