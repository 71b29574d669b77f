import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Ack, MessageFrame, RoomConnection } from '../../client/src/index'
import { resetDatabase } from '../../dev/database'
import { type Stack, startStack } from '../../dev/stack'
import { privateMariaDb } from '../support/mariadb-server'
import { privateRedis } from '../support/redis-server'
import { createRoom, join as joinRoom, registerUser, type TestUser } from '../support/rooms'
import { tcpProxy } from '../support/tcp-proxy'
import { type FaultKind, faultKinds, inject } from './faults'
import { checkInvariants, type RoomRun } from './invariants'

export interface CampaignOptions {
  seed: number
  minutes: number
  /** Faults to inject, spread over the minutes. */
  faults: number
  rooms?: number
  members?: number
  log?: (line: string) => void
}

export interface CampaignReport {
  seed: number
  faults: Array<{ atSeconds: number; kind: FaultKind; what: string }>
  acked: number
  stored: number
  delivered: number
  violations: string[]
}

/** mulberry32: a small seeded PRNG, so a seed replays the same choices. */
function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The chaos stack: limits opened (the campaign tests faults, not limits), retries quick. */
const chaosVars = {
  RATE_LIMIT_USER_PER_MINUTE: '1000000',
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000',
  RATE_LIMIT_AUTH_PER_15_MINUTES: '1000000',
  ROOM_SHIP_MAX_BACKOFF_MS: '1000',
  BREAKER_HALF_OPEN_MS: '1000',
}

/** Each member sends every 200–600 ms while `running()`, keeping its outbox short. */
async function sendLoop(run: RoomRun, m: number, random: () => number, running: () => boolean) {
  const member = run.members[m]!
  for (let k = 0; running(); k++) {
    await sleep(200 + random() * 400)
    if (member.room.unacked >= 20) continue
    member.room.send(`${member.user.name} #${k}`).then(
      (ack: Ack) => member.acked.push(ack),
      () => member.refused++,
    )
  }
}

async function openRooms(stack: Stack, baseUrl: string, rooms: number, members: number) {
  const runs: RoomRun[] = []
  for (let r = 0; r < rooms; r++) {
    const users: TestUser[] = []
    for (let m = 0; m < members; m++) users.push(await registerUser(stack, `R${r}M${m}`))
    const roomId = await createRoom(stack, users[0]!)
    const run: RoomRun = { roomId, members: [] }
    for (const user of users) {
      const room: RoomConnection = await joinRoom(stack, user, roomId, { baseUrl })
      const received: MessageFrame[] = []
      room.on('message', (f) => received.push(f))
      run.members.push({ user, room, received, acked: [], refused: 0 })
    }
    runs.push(run)
  }
  return runs
}

/**
 * A fault campaign (hardening issue): the stack on a private MariaDB and Redis, SDK clients
 * in several rooms sending and receiving through a TCP proxy, faults injected at random
 * (seeded) one after another, then everything healed and the invariants checked: every
 * acked message delivered once, in order, to every member; stored once in MySQL; no gap.
 */
export async function runCampaign(o: CampaignOptions): Promise<CampaignReport> {
  const log = o.log ?? (() => {})
  const random = seeded(o.seed)
  const started = Date.now()
  const at = () => Math.round((Date.now() - started) / 100) / 10
  const mariadb = await privateMariaDb()
  const redis = await privateRedis()
  const persistTo = await mkdtemp(join(tmpdir(), 'plaza-chaos-'))
  const report: CampaignReport = {
    seed: o.seed,
    faults: [],
    acked: 0,
    stored: 0,
    delivered: 0,
    violations: [],
  }
  let stack: Stack | undefined
  let proxy: Awaited<ReturnType<typeof tcpProxy>> | undefined
  let runs: RoomRun[] = []
  try {
    const databaseUrl = mariadb.url('plaza_chaos')
    await resetDatabase(databaseUrl)
    stack = await startStack({
      edge: 'miniflare',
      databaseUrl,
      redisUrl: redis.url,
      originWorkers: 2,
      edgePersistTo: persistTo,
      secretsPath: join(persistTo, 'secrets.json'),
      edgeVars: chaosVars,
    })
    proxy = await tcpProxy(stack.urls.edge)
    runs = await openRooms(stack, proxy.url, o.rooms ?? 3, o.members ?? 3)
    log(
      `seed ${o.seed}: ${runs.length} rooms × ${o.members ?? 3} members, ${o.faults} faults in ${o.minutes} min`,
    )
    let sending = true
    const senders = runs.flatMap((run) =>
      run.members.map((_, m) => sendLoop(run, m, random, () => sending)),
    )
    const every = (o.minutes * 60_000) / o.faults
    // Every kind once per round of six, in a seeded order: a short campaign covers them all.
    let round: FaultKind[] = []
    const targets = { stack, mariadb, redis, proxy }
    for (let i = 0; i < o.faults; i++) {
      const due = started + every * (i + 0.5 + (random() - 0.5) * 0.5)
      await sleep(Math.max(0, due - Date.now()))
      if (!round.length) round = [...faultKinds].sort(() => random() - 0.5)
      const kind = round.pop()!
      const downMs = Math.round(500 + random() * 2_500)
      const when = at()
      const what = await inject(kind, targets, downMs, (n) => Math.floor(random() * n))
      report.faults.push({ atSeconds: when, kind, what })
      log(`[${when.toFixed(1)} s] fault ${i + 1}/${o.faults}: ${what}`)
    }
    sending = false
    await Promise.all(senders)
    log(`[${at().toFixed(1)} s] faults over; waiting for every send, landing and delivery`)
    Object.assign(report, await checkInvariants(stack, databaseUrl, runs, log))
    return report
  } finally {
    for (const run of runs) for (const m of run.members) m.room.close()
    await proxy?.close()
    await stack?.stop()
    await redis.stop()
    await mariadb.destroy()
    await rm(persistTo, { recursive: true, force: true })
  }
}
