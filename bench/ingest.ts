import mysql from 'mysql2/promise'
import type WebSocket from 'ws'
import { messageCount } from '../dev/database'
import { newId } from '../shared/ids'
import { benchDatabaseUrl, benchRoom, benchUser, openRoomSocket, startRoomStack } from './rooms'

/**
 * Ingest: messages persisted per second into MariaDB. The room's outbox is filled while
 * the origin is stopped, then the origin comes back and the drain is timed from the first
 * stored row to the last. Batched (ROOM_SHIP_BATCH and RELAY_BATCH 500: one signed POST, one multi-row
 * INSERT per batch) vs the naive design through the same path (both 1: one
 * POST and one INSERT per message), plus the database's own floor for one INSERT per
 * message from Node (mysql2, autocommit) for reference.
 */
export interface IngestRow {
  name: string
  messages: number
  seconds: number
  perSecond: number
}

async function fill(ws: WebSocket, count: number): Promise<void> {
  let acked = 0
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const frames = JSON.parse(String(data))
      for (const f of Array.isArray(frames) ? frames : [frames]) {
        if (f.type === 'ack' && ++acked === count) resolve()
        if (f.type === 'error') reject(new Error(`room refused: ${f.code} ${f.message}`))
      }
    })
    // ~100-byte bodies, sent in windows of 200 so the socket is never the limit.
    let sent = 0
    const pump = () => {
      while (sent < count && sent - acked < 200) {
        sent++
        ws.send(
          JSON.stringify({
            type: 'send',
            clientMsgId: `i${sent}`,
            body: `${sent} `.padEnd(100, 'x'),
          }),
        )
      }
      if (sent < count) setTimeout(pump, 1)
    }
    pump()
  })
}

/** One message, acked: the room has asked the origin where its numbering starts. */
function warmUp(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: unknown) => {
      const frames = JSON.parse(String(data))
      for (const f of Array.isArray(frames) ? frames : [frames]) {
        if (f.type === 'ack' && f.clientMsgId === 'warm-up') {
          ws.off('message', onMessage)
          resolve()
        }
        if (f.type === 'error') reject(new Error(`warm-up refused: ${f.code} ${f.message}`))
      }
    }
    ws.on('message', onMessage)
    ws.send(JSON.stringify({ type: 'send', clientMsgId: 'warm-up', body: 'warm-up' }))
  })
}

async function drainRate(name: string, batch: number, count: number): Promise<IngestRow> {
  const stack = await startRoomStack({
    // The shipment size is the relay's now; the room hands over in batches of the same size.
    ROOM_SHIP_BATCH: String(batch),
    RELAY_BATCH: String(batch),
    RELAY_GATHER_MS: '0',
    ROOM_SHIP_DELAY_MS: '0',
    ROOM_SHIP_MAX_BACKOFF_MS: '100',
    ROOM_OUTBOX_LIMIT: String(count + 1000),
    ROOM_WINDOW: '100',
  })
  const db = await mysql.createConnection(benchDatabaseUrl)
  try {
    const user = await benchUser(stack, 'Ingest')
    const roomId = await benchRoom(stack, user.token)
    const ws = await openRoomSocket(stack.urls.edge, roomId, user.token)
    // A new room learns where MySQL's numbering stands from the origin before its first
    // message: one message while the origin is up, then the outbox fills without it.
    await warmUp(ws)
    await stack.origin.stop()
    process.stdout.write(`  ${name}: filling the outbox with ${count} messages… `)
    await fill(ws, count)
    ws.close()
    await stack.restartOrigin()
    let first = 0
    let stored = 0
    const deadline = Date.now() + 600_000
    // The warm-up message is stored first, so the drain is timed from the first of the rest.
    while (stored < count + 1) {
      stored = await messageCount(db, roomId)
      if (stored > 1 && !first) first = performance.now()
      if (Date.now() > deadline) throw new Error(`${name}: only ${stored - 1} of ${count} stored`)
      if (stored < count + 1) await new Promise((r) => setTimeout(r, 20))
    }
    const seconds = (performance.now() - first) / 1000
    const result = { name, messages: count, seconds, perSecond: Math.round(count / seconds) }
    console.log(`${result.perSecond} msgs/s stored (${count} in ${seconds.toFixed(2)} s)`)
    return result
  } finally {
    await db.end()
    await stack.stop()
  }
}

async function directInserts(count: number): Promise<IngestRow> {
  const db = await mysql.createConnection(benchDatabaseUrl)
  const roomId = newId()
  const author = newId()
  process.stdout.write(`  mysql2, one INSERT per message (autocommit, 1 connection): `)
  const started = performance.now()
  for (let seq = 1; seq <= count; seq++) {
    await db.query(
      'INSERT INTO messages (room_id, seq, id, author_id, client_msg_id, body, body_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [roomId, seq, newId(), author, `d${seq}`, `${seq} `.padEnd(100, 'x'), 100, new Date()],
    )
  }
  const seconds = (performance.now() - started) / 1000
  await db.end()
  const result = {
    name: 'mysql2 from Node, one INSERT per message (reference floor)',
    messages: count,
    seconds,
    perSecond: Math.round(count / seconds),
  }
  console.log(`${result.perSecond} msgs/s`)
  return result
}

export async function benchIngest(): Promise<IngestRow[]> {
  const scale = Number(process.env.BENCH_INGEST_MESSAGES ?? 20_000)
  const rows: IngestRow[] = []
  // The default shipment size (ROOM_SHIP_BATCH 500) and a larger one.
  for (const batch of [500, 2000]) {
    rows.push(
      await drainRate(`batched outbox (${batch} per shipment, one multi-row INSERT)`, batch, scale),
    )
  }
  rows.push(
    await drainRate('naive: one shipment and one INSERT per message', 1, Math.round(scale / 10)),
  )
  rows.push(await directInserts(Math.round(scale / 10)))
  return rows
}
