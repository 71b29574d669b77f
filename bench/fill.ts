import { setTimeout as sleep } from 'node:timers/promises'
import { importJWK, SignJWT } from 'jose'
import WebSocket from 'ws'
import { freePort } from '../dev/processes'
import { newId } from '../shared/ids'
import { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../shared/protocol'
import { type FloorResult, minimalFloor } from './hibernating/floor'
import { rssAfterCollection } from './inspector'
import { answerMark } from './marks'
import { benchEdge, benchRoom, benchUser, roomSocketUrl, startRoomStack } from './rooms'
import { perSocketKb, quantile, workerdRss } from './workerd'

const total = Number(process.env.BENCH_FILL_SOCKETS ?? 10_000)
const opening = 200
/** How long sockets sit idle before the second memory reading (hibernation needs ~10 s). */
const idleSeconds = Number(process.env.BENCH_FILL_IDLE_SECONDS ?? 20)
/** Whether the bench's clients offer permessage-deflate, as every browser does (`0`: they do not). */
const offerDeflate = process.env.BENCH_FILL_DEFLATE !== '0'
const clientOptions = { perMessageDeflate: offerDeflate }
/**
 * The self-hosted tier by default: under Miniflare every socket also crosses its entry and
 * asset-router Workers (~70 KB a socket, measured), which neither Cloudflare nor the
 * self-hosted edge puts in front of a room.
 */
const edge = benchEdge('workerd')

export interface FillResult {
  sockets: number
  fillSeconds: number
  broadcastP50: number
  broadcastP99: number
  rssBeforeMb: number
  rssAfterMb: number
  rssPerSocketKb: number
  /** The same after `idleSeconds` without traffic (hibernated). */
  idlePerSocketKb: number
  /** The same after a full garbage collection (self-hosted tier only: its inspector). */
  collectedPerSocketKb?: number
  /** The runtime's own floor: a minimal hibernating Durable Object, same harness, idle. */
  floor: FloorResult
  /** The same floor, its sockets sent the same five frames as Plaza's. */
  floorBroadcast: FloorResult
}

/**
 * `npm run bench -- fill`: BENCH_FILL_SOCKETS sockets (10,000), one user each, into one
 * public room, 200 opening at a time; the time until the last has its welcome; then five
 * messages broadcast to all of them (delivery latency per socket), and workerd's resident
 * memory before and after (per socket, after a few idle seconds).
 */
export async function benchFill(): Promise<FillResult> {
  // The edge's inspector, to read its memory after a full collection, as the floor's is;
  // read when workerd starts, and left as it was for the benches after this one.
  const given = process.env.PLAZA_INSPECTOR_PORT
  const inspector = edge === 'workerd' ? Number(given ?? (await freePort())) : undefined
  if (inspector) process.env.PLAZA_INSPECTOR_PORT = String(inspector)
  const stack = await startRoomStack({}, edge).finally(() => {
    if (given === undefined) delete process.env.PLAZA_INSPECTOR_PORT
  })
  let stopped = false
  const sockets: WebSocket[] = []
  try {
    const owner = await benchUser(stack, 'Owner')
    const roomId = await benchRoom(stack, owner.token)
    const key = await importJWK(JSON.parse(stack.secrets.jwtSigningKey), 'EdDSA')
    const kid = (JSON.parse(stack.secrets.jwtSigningKey) as { kid: string }).kid
    const token = (i: number) =>
      new SignJWT({ name: `user ${i}` })
        .setProtectedHeader({ alg: 'EdDSA', kid })
        .setSubject(newId())
        .setIssuer('plaza')
        .setAudience('plaza-api')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(key)
    const tokens = await Promise.all(Array.from({ length: total }, (_, i) => token(i)))
    const rssBefore = workerdRss()
    const url = roomSocketUrl(stack.urls.edge, roomId)
    const received: number[][] = []
    /** One message frame as Plaza's sockets got it: the floor broadcasts its like. */
    let sample: string | undefined
    const started = performance.now()
    let next = 0
    const openOne = async (): Promise<void> => {
      const i = next++
      if (i >= total) return
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(
          url,
          [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${tokens[i]}`],
          clientOptions,
        )
        received[i] = []
        ws.on('message', (data) => {
          const text = String(data)
          if (answerMark(ws, text)) return
          if (text.includes('"welcome"')) resolve()
          if (!text.includes('"message"')) return
          sample ??= text
          const parsed = JSON.parse(text)
          for (const f of Array.isArray(parsed) ? parsed : [parsed]) {
            if (f.type === 'message') received[i]!.push(Date.now() - Number(f.body))
          }
        })
        ws.once('error', reject)
        sockets.push(ws)
      })
      if (i % 1000 === 999) process.stdout.write(`${i + 1} `)
      return openOne()
    }
    process.stdout.write(`  opening ${total} sockets… `)
    await Promise.all(Array.from({ length: opening }, openOne))
    const fillSeconds = Math.round((performance.now() - started) / 100) / 10
    console.log(`all open in ${fillSeconds} s`)
    await sleep(3000)
    const rssAfter = workerdRss()
    for (let m = 0; m < 5; m++) {
      await fetch(`${stack.urls.edge}/v1/rooms/${roomId}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({ clientMsgId: `fill-${m}`, body: String(Date.now()) }),
      })
      await sleep(1000)
    }
    await sleep(2000)
    // Idle: no frames for a while, so the room and its sockets can hibernate.
    await sleep(idleSeconds * 1000)
    const rssIdle = workerdRss()
    const rssCollected = inspector
      ? await rssAfterCollection(inspector, () =>
          // Enters the edge's isolate and the page's, neither waking the room.
          Promise.all([fetch(`${stack.urls.edge}/.well-known/jwks.json`), fetch(stack.urls.edge)]),
        )
      : undefined
    const latencies = received.flat()
    if (latencies.length < total * 5)
      console.log(`  only ${latencies.length} of ${total * 5} deliveries arrived`)
    return {
      sockets: total,
      fillSeconds,
      broadcastP50: quantile(latencies, 0.5),
      broadcastP99: quantile(latencies, 0.99),
      rssBeforeMb: Math.round(rssBefore / 1e5) / 10,
      rssAfterMb: Math.round(rssAfter / 1e5) / 10,
      rssPerSocketKb: perSocketKb(rssAfter, rssBefore, total),
      idlePerSocketKb: perSocketKb(rssIdle, rssBefore, total),
      collectedPerSocketKb:
        rssCollected === undefined ? undefined : perSocketKb(rssCollected, rssBefore, total),
      ...(await (async () => {
        for (const ws of sockets) ws.terminate()
        sockets.length = 0
        stopped = true
        await stack.stop()
        const floor = { edge, sockets: total, opening, idleSeconds, clientOptions }
        return {
          floor: await minimalFloor(floor),
          floorBroadcast: await minimalFloor({ ...floor, broadcast: sample ?? '{}' }),
        }
      })()),
    }
  } finally {
    for (const ws of sockets) ws.terminate()
    if (!stopped) await stack.stop()
  }
}
