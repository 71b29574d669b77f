import { readFileSync } from 'node:fs'
import type WebSocket from 'ws'
import { roomStats } from '../dev/room-stats'
import { benchRoom, benchUser, openRoomSocket, startRoomStack } from './rooms'
import { workerdRss } from './workerd'

const seconds = Number(process.env.BENCH_READERS_SECONDS ?? 20)
const stalledCount = 10
const resumerCount = 10
const sendsPerSecond = 400
const body = 'x'.repeat(4_000)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const mb = (bytes: number) => Math.round(bytes / 1e5) / 10
/** What the kernel holds in TCP buffers, all sockets (bytes): where unread frames wait first. */
const tcpBuffers = () =>
  Number(readFileSync('/proc/net/sockstat', 'utf8').match(/TCP:.* mem (\d+)/)?.[1] ?? 0) * 4096

export interface SlowReadersRow {
  bound: string
  /** What each stalled socket was offered (MB): the messages sent while it sat. */
  offeredPerSocketMb: number
  rssBeforeMb: number
  rssPeakMb: number
  rssAfterMb: number
  /** Kernel TCP buffer memory at its peak, above where it started. */
  tcpPeakMb: number
  closed4408: number
  sockets: number
}

/**
 * The hardening issue's memory scenario: in one busy room (one sender, 400 × 4 KB messages
 * a second), ten sockets that stop reading and ten that stop reading and flood `resume
 * {lastSeq: 0}`; workerd's resident memory before, at its peak and after. Run once with
 * the unread bound at its default and once with it effectively off (the code before it).
 */
async function scenario(maxUnread: string | undefined, stall = true): Promise<SlowReadersRow> {
  const vars: Record<string, string> = maxUnread ? { ROOM_SOCKET_MAX_UNREAD_BYTES: maxUnread } : {}
  const stack = await startRoomStack(vars)
  try {
    const owner = await benchUser(stack, 'Owner')
    const roomId = await benchRoom(stack, owner.token)
    const sender = await openRoomSocket(stack.urls.edge, roomId, owner.token)
    const stuck: WebSocket[] = []
    for (let i = 0; i < stalledCount + resumerCount; i++) {
      const reader = await benchUser(stack, `Reader${i}`)
      const ws = await openRoomSocket(stack.urls.edge, roomId, reader.token)
      stuck.push(ws)
    }
    await sleep(500)
    if (stall) for (const ws of stuck) ws.pause()
    const rssBefore = workerdRss()
    let peak = rssBefore
    const tcpBefore = tcpBuffers()
    let tcpPeak = tcpBefore
    let n = 0
    const started = Date.now()
    while (Date.now() - started < seconds * 1000) {
      for (let i = 0; i < sendsPerSecond / 10; i++) {
        sender.send(JSON.stringify({ type: 'send', clientMsgId: `m${++n}`, body }))
      }
      for (const ws of stuck.slice(stalledCount)) {
        ws.send(JSON.stringify({ type: 'resume', lastSeq: 0 }))
      }
      await sleep(100)
      peak = Math.max(peak, workerdRss())
      tcpPeak = Math.max(tcpPeak, tcpBuffers())
    }
    await sleep(2_000)
    const rssAfter = workerdRss()
    const stats = await roomStats(stack, roomId)
    for (const ws of stuck) ws.terminate()
    sender.close()
    return {
      bound: `${maxUnread ? `${maxUnread} (off)` : 'default (4194304)'}${stall ? '' : ', every socket reading'}`,
      offeredPerSocketMb: mb(n * (body.length + 150)),
      rssBeforeMb: mb(rssBefore),
      rssPeakMb: mb(peak),
      rssAfterMb: mb(rssAfter),
      tcpPeakMb: mb(tcpPeak - tcpBefore),
      closed4408: stats.closedNotReading ?? 0,
      sockets: stuck.length,
    }
  } finally {
    await stack.stop()
  }
}

export async function benchSlowReaders(): Promise<SlowReadersRow[]> {
  const rows: SlowReadersRow[] = []
  for (const bound of [undefined, '100000000000']) {
    console.log(`  unread bound ${bound ?? 'default'}: ${seconds} s…`)
    rows.push(await scenario(bound))
  }
  console.log(`  the same traffic, every socket reading (the baseline): ${seconds} s…`)
  rows.push(await scenario(undefined, false))
  return rows
}
