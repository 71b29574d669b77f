import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { resetDatabase } from '../dev/database'
import { edgeProcessesFrom, type Stack, startStack } from '../dev/stack'
import { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../shared/protocol'
import { answerMark } from './marks'

/** Helpers the room benchmarks share: a stack with limits opened up, users, rooms, sockets. */
export const benchDatabaseUrl =
  process.env.BENCH_DATABASE_URL || 'mysql://root@127.0.0.1:3306/plaza_bench'
export const benchRedisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'

// Each run its own made-up addresses: limiter keys of an earlier run may still be in Redis.
let ipCounter = Math.floor(Math.random() * 60_000)
const ip = () => `10.99.${(++ipCounter >> 8) & 255}.${ipCounter & 255}`

/** Which runtime holds the edge: BENCH_EDGE=workerd|miniflare, else the bench's own choice. */
export type BenchEdge = 'workerd' | 'miniflare'
export const benchEdge = (fallback: BenchEdge): BenchEdge =>
  process.env.BENCH_EDGE === 'workerd' || process.env.BENCH_EDGE === 'miniflare'
    ? process.env.BENCH_EDGE
    : fallback

/**
 * `edge`: Miniflare (workerd behind Miniflare's entry and asset-router Workers, as `npm run
 * dev` runs it) or standalone workerd (the self-hosted tier: the socket goes to the edge).
 */
export async function startRoomStack(
  edgeVars: Record<string, string> = {},
  edge: BenchEdge = benchEdge('miniflare'),
): Promise<Stack> {
  await resetDatabase(benchDatabaseUrl)
  // Standalone workerd keeps Durable Objects on disk: each run its own, so no relay starts
  // with an earlier run's messages (their rooms are gone with the reset database).
  const persistTo =
    edge === 'workerd' ? mkdtempSync(join(tmpdir(), 'plaza-bench-edge-')) : undefined
  const stack = await startStack({
    edge,
    edgePersistTo: persistTo,
    // BENCH_EDGE_PROCESSES=4 (with BENCH_EDGE=workerd): rooms split over four workerd processes.
    edgeProcesses: edgeProcessesFrom(process.env.BENCH_EDGE_PROCESSES, 'BENCH_EDGE_PROCESSES'),
    databaseUrl: benchDatabaseUrl,
    redisUrl: benchRedisUrl,
    originWorkers: 2,
    standInsInOwnProcess: true,
    edgeVars: {
      // The benchmarks measure the room, not the limits: nothing here may refuse them.
      RATE_LIMIT_USER_PER_MINUTE: '1000000000',
      RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000000',
      // Sign-ups from the benchmarks' made-up addresses (their counters live in Redis for 15 min).
      RATE_LIMIT_AUTH_PER_15_MINUTES: '1000000000',
      ROOM_FLOOD_PER_SECOND: '100000',
      ROOM_FLOOD_BURST: '100000',
      ROOM_USER_SENDS_PER_SECOND: '100000',
      ROOM_USER_SENDS_BURST: '100000',
      // The fan-out harness holds its 1,000 subscriber sockets as one listening user.
      ROOM_MAX_SOCKETS_PER_USER: '100000',
      // BENCH_EDGE_VARS='{"ROOM_SHIP_BATCH":"2000"}': try an edge setting in any room bench.
      ...JSON.parse(process.env.BENCH_EDGE_VARS ?? '{}'),
      ...edgeVars,
    },
  })
  if (!persistTo) return stack
  const stop = stack.stop.bind(stack)
  return Object.assign(stack, {
    stop: async () => {
      await stop()
      rmSync(persistTo, { recursive: true, force: true })
    },
  })
}

export async function benchUser(stack: Stack, name: string) {
  const res = await fetch(`${stack.urls.edge}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip() },
    body: JSON.stringify({
      email: `${name.toLowerCase()}.${Date.now()}.${++ipCounter}@bench.test`,
      password: 'correct horse battery',
      displayName: name,
    }),
  })
  const body = (await res.json()) as { user: { id: string }; tokens: { accessToken: string } }
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(body)}`)
  return { id: body.user.id, token: body.tokens.accessToken }
}

export async function benchRoom(stack: Stack, token: string): Promise<string> {
  const res = await fetch(`${stack.urls.edge}/v1/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: `bench ${Date.now()}` }),
  })
  const body = (await res.json()) as { id: string }
  if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(body)}`)
  return body.id
}

export function roomSocketUrl(edgeUrl: string, roomId: string): string {
  return `${edgeUrl.replace(/^http/, 'ws')}/v1/rooms/${roomId}/ws`
}

export function openRoomSocket(edgeUrl: string, roomId: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(roomSocketUrl(edgeUrl, roomId), [
    PROTOCOL,
    `${TOKEN_PROTOCOL_PREFIX}${token}`,
  ])
  ws.on('message', (data) => answerMark(ws, String(data)))
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}
