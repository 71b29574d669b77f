import { type ChildProcess, fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../shared/protocol'
import { cpuByRole, cpuShares, type Roles } from './cpu'
import {
  benchDatabaseUrl,
  benchEdge,
  benchRedisUrl,
  benchRoom,
  benchUser,
  roomSocketUrl,
  startRoomStack,
} from './rooms'

/**
 * Many small rooms, one harness for every system: ROOMS rooms × MEMBERS sockets held by a
 * separate client process (bench/small-rooms-clients.ts), one member of each room sending
 * ~100-byte messages, the total rate stepped up until p99 passes 200 ms or anything is
 * lost. Systems: Plaza (edge in Miniflare, or BENCH_EDGE=workerd; every message persisted to MariaDB);
 * Socket.IO 4 + Redis adapter on two processes, ephemeral; and the same writing each
 * message to MariaDB before emitting it (the seeds' chat design, persisted).
 */
export interface SmallRoomsRow {
  system: string
  rate: number
  sent: number
  deliveriesPerSecond: number
  p50: number
  p99: number
  /** Deliveries that never came (each message is due to MEMBERS − 1 sockets). */
  lost: number
  /** Sends the system refused (Plaza: `unavailable`, rate limits). */
  refused: number
  /** Share of one core per process role during the step. */
  cpu: Record<string, number>
  ok: boolean
}

const root = fileURLToPath(new URL('..', import.meta.url))
const roomCount = Number(process.env.BENCH_SMALL_ROOMS ?? 500)
const members = Number(process.env.BENCH_SMALL_MEMBERS ?? 4)
const stepSeconds = Number(process.env.BENCH_SMALL_SECONDS ?? 8)
const rates = (process.env.BENCH_SMALL_RATES ?? '250,500,1000,2000,4000,8000')
  .split(',')
  .map(Number)
const P99_BUDGET_MS = 200

const common: Roles = {
  client: /small-rooms-clients/,
  redis: /redis-server/,
  mariadb: /mariadbd/,
}

type Member = { url: string; protocols?: string[] }
interface Report {
  sent: number
  acked: number
  refused: number
  delivered: number
  seconds: number
  p50: number
  p99: number
}

class Clients {
  private readonly child: ChildProcess
  private readonly waiting = new Map<string, (value: unknown) => void>()
  constructor() {
    this.child = fork(`${root}bench/small-rooms-clients.ts`, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child.on('message', (msg: { event: string; message?: string; opened?: number }) => {
      if (msg.event === 'error') console.error(`    clients: ${msg.message}`)
      if (msg.event === 'progress') process.stdout.write(`\r    ${msg.opened} sockets open…`)
      this.waiting.get(msg.event)?.(msg)
      this.waiting.delete(msg.event)
    })
  }
  private wait<T>(event: string): Promise<T> {
    return new Promise((resolve) => this.waiting.set(event, resolve as (v: unknown) => void))
  }
  async start(system: 'plaza' | 'socketio', rooms: Member[][]): Promise<number> {
    const ready = this.wait<{ opened: number }>('ready')
    this.child.send({ cmd: 'start', system, rooms })
    const { opened } = await ready
    process.stdout.write(`\r    ${opened} sockets open in ${rooms.length} rooms\n`)
    return opened
  }
  step(tag: string, rate: number): Promise<Report> {
    const report = this.wait<Report>('report')
    this.child.send({ cmd: 'step', tag, rate, seconds: stepSeconds })
    return report
  }
  async close() {
    this.child.send({ cmd: 'exit' })
    await once(this.child, 'exit')
  }
}

/** Steps the rate up until one step misses (p99 over budget, a loss or a refusal). */
async function runSteps(system: string, clients: Clients, roles: Roles) {
  const rows: SmallRoomsRow[] = []
  for (const [i, rate] of rates.entries()) {
    const before = cpuByRole(roles)
    const r = await clients.step(`s${i}`, rate)
    const cpu = cpuShares(before, cpuByRole(roles), r.seconds)
    const lost = r.sent * (members - 1) - r.delivered
    const refused = r.refused
    const ok = lost === 0 && refused === 0 && r.p99 < P99_BUDGET_MS
    const row = {
      system,
      rate,
      sent: r.sent,
      deliveriesPerSecond: Math.round(r.delivered / r.seconds),
      p50: r.p50,
      p99: r.p99,
      lost,
      refused,
      cpu,
      ok,
    }
    rows.push(row)
    const cpus = Object.entries(cpu)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')
    console.log(
      `    ${rate} msgs/s: ${row.deliveriesPerSecond} deliveries/s, p50 ${r.p50} ms, p99 ${r.p99} ms, lost ${lost}, refused ${refused}; cpu: ${cpus}${ok ? '' : '  ← misses'}`,
    )
    if (!ok) break
  }
  return rows
}

async function counter(db: mysql.Connection, name: string): Promise<number> {
  const [rows] = await db.query(`SHOW GLOBAL STATUS LIKE '${name}'`)
  return Number((rows as Array<{ Value: string }>)[0]?.Value ?? 0)
}

async function benchPlaza(): Promise<{ rows: SmallRoomsRow[]; notes: string[] }> {
  const edge = benchEdge('miniflare')
  console.log(
    `  Plaza (${edge === 'workerd' ? 'standalone workerd' : 'Miniflare'}, every message persisted to MariaDB)…`,
  )
  // BENCH_SMALL_EDGE_VARS='{"ROOM_SHIP_DELAY_MS":"60000"}' tries a setting without an edit.
  const stack = await startRoomStack(JSON.parse(process.env.BENCH_SMALL_EDGE_VARS ?? '{}'), edge)
  const clients = new Clients()
  const db = await mysql.createConnection(benchDatabaseUrl)
  try {
    const users: Array<{ id: string; token: string }> = []
    for (let u = 0; u < 40; u++) users.push(await benchUser(stack, `Member${u}`))
    const roomIds: string[] = []
    for (let r = 0; r < roomCount; r++) roomIds.push(await benchRoom(stack, users[r % 40]!.token))
    const rooms = roomIds.map((roomId, r) =>
      Array.from({ length: members }, (_, k) => ({
        url: roomSocketUrl(stack.urls.edge, roomId),
        protocols: [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${users[(r * members + k) % 40]!.token}`],
      })),
    )
    await clients.start('plaza', rooms)
    const insertsBefore = await counter(db, 'Com_insert')
    const rows = await runSteps('Plaza', clients, {
      ...common,
      workerd: /workerd/,
      // In front of several workerd processes (BENCH_EDGE_PROCESSES): nginx routes each room.
      router: /nginx/,
      origin: /origin\/main/,
      'stand-ins': /dev\/standins/,
    })
    // Every acked message must reach MariaDB: wait for the last ones, and time it.
    const sent = rows.reduce((n, r) => n + r.sent, 0)
    const refused = rows.reduce((n, r) => n + r.refused, 0)
    const acked = sent - refused
    const endedAt = Date.now()
    let stored = 0
    for (let i = 0; i < 600 && stored < acked; i++) {
      const [found] = await db.query('SELECT count(*) AS n FROM messages')
      stored = Number((found as Array<{ n: number }>)[0]!.n)
      if (stored < acked) await new Promise((r) => setTimeout(r, 100))
    }
    const inserts = (await counter(db, 'Com_insert')) - insertsBefore
    const notes = [
      `persisted: ${stored} of ${acked} acked messages in MariaDB, the last ${((Date.now() - endedAt) / 1000).toFixed(1)} s after the last step's deliveries settled`,
      `MySQL INSERT statements: ${inserts} for ${stored} messages (${(stored / Math.max(inserts, 1)).toFixed(0)} messages per INSERT)`,
    ]
    for (const n of notes) console.log(`    ${n}`)
    if (stored !== acked) throw new Error(`Plaza persisted ${stored} of ${acked} acked messages`)
    return { rows, notes }
  } finally {
    await db.end()
    await clients.close()
    await stack.stop()
  }
}

async function startServer(mode: 'ephemeral' | 'persisted', runId: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/small-rooms-server.ts', mode], {
    cwd: root,
    env: {
      ...process.env,
      REDIS_URL: benchRedisUrl,
      BENCH_DATABASE_URL: benchDatabaseUrl,
      BENCH_RUN: runId,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string]
  const { port } = JSON.parse(line) as { port: number }
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

async function benchSocketIo(
  mode: 'ephemeral' | 'persisted',
): Promise<{ rows: SmallRoomsRow[]; notes: string[] }> {
  const name = `Socket.IO + Redis adapter, ${mode}`
  console.log(`  ${name} (2 processes)…`)
  const db = await mysql.createConnection(benchDatabaseUrl)
  await db.query(`CREATE TABLE IF NOT EXISTS socketio_messages (
    id BIGINT AUTO_INCREMENT PRIMARY KEY, room VARCHAR(32) NOT NULL, author VARCHAR(32) NOT NULL,
    body TEXT NOT NULL, created_at DATETIME(3) NOT NULL, KEY (room, id))`)
  await db.query('TRUNCATE socketio_messages')
  const runId = `${mode}-${Date.now()}`
  const servers = [await startServer(mode, runId), await startServer(mode, runId)]
  const clients = new Clients()
  try {
    // Each room's members alternate between the processes: every room spans both.
    const rooms = Array.from({ length: roomCount }, (_, r) =>
      Array.from({ length: members }, (_, k) => ({
        url: `ws://127.0.0.1:${servers[k % 2]!.port}/socket.io/?EIO=4&transport=websocket&room=r${r}`,
      })),
    )
    await clients.start('socketio', rooms)
    const rows = await runSteps(name, clients, { ...common, 'socket.io': /small-rooms-server/ })
    const notes: string[] = []
    if (mode === 'persisted') {
      const sent = rows.reduce((n, r) => n + r.sent, 0)
      const [found] = await db.query('SELECT count(*) AS n FROM socketio_messages')
      const stored = Number((found as Array<{ n: number }>)[0]!.n)
      notes.push(`persisted: ${stored} of ${sent} messages in MariaDB (one INSERT each)`)
      console.log(`    ${notes[0]}`)
    }
    return { rows, notes }
  } finally {
    await clients.close()
    for (const s of servers) await s.stop()
    await db.end()
  }
}

/** The highest rate a system sustained (p99 < 200 ms, nothing lost or refused), or 0. */
export const sustained = (rows: SmallRoomsRow[]) =>
  rows.filter((r) => r.ok).reduce((best, r) => Math.max(best, r.rate), 0)

/** BENCH_SMALL_SYSTEMS=plaza,ephemeral,persisted (the default: all three). */
export async function benchSmallRooms() {
  const systems = (process.env.BENCH_SMALL_SYSTEMS ?? 'plaza,ephemeral,persisted').split(',')
  const none = { rows: [] as SmallRoomsRow[], notes: [] as string[] }
  const plaza = systems.includes('plaza') ? await benchPlaza() : none
  const ephemeral = systems.includes('ephemeral') ? await benchSocketIo('ephemeral') : none
  const persisted = systems.includes('persisted') ? await benchSocketIo('persisted') : none
  return { plaza, ephemeral, persisted }
}
