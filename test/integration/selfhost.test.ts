import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Ack } from '../../client/src/index'
import { roomStats } from '../../dev/room-stats'
import type { Stack } from '../../dev/stack'
import { messageCount, select } from '../support/db'
import { databaseUrl } from '../support/env'
import { createRoom, join as joinRoom, rawSocket, registerUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// The self-hosted edge (no Cloudflare account): the same bundle and Room class under
// standalone workerd, Durable Objects in SQLite files on local disk, the page served.
// workerd is stopped while a room holds acked messages the origin never got (it is down);
// both come back, and every acked message reaches MySQL once.
const state = mkdtempSync(join(tmpdir(), 'plaza-selfhost-'))
let stack: Stack

beforeAll(async () => {
  stack = await startTestStack({
    edge: 'workerd',
    edgePersistTo: state,
    // Retries and the safety alarm quick, so the test waits seconds, not half a minute.
    edgeVars: { ROOM_SHIP_MAX_BACKOFF_MS: '500', ROOM_SHIP_SAFETY_MS: '2000' },
  })
}, 90_000)

afterAll(async () => {
  await stack?.stop()
  rmSync(state, { recursive: true, force: true })
})

describe('the edge under standalone workerd', () => {
  it('serves the page and its files, and nothing it does not have', async () => {
    const page = await fetch(`${stack.urls.edge}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<html')
    expect((await fetch(`${stack.urls.edge}/app.js`)).status).toBe(200)
    expect((await fetch(`${stack.urls.edge}/no-such-file.js`)).status).toBe(404)
  })

  it('answers a socket offering permessage-deflate without it (no zlib state per socket)', async () => {
    const ada = await registerUser(stack, 'Ada')
    const raw = await rawSocket(stack, await createRoom(stack, ada), ada.token)
    expect(raw.ws.extensions).toBe('')
    raw.ws.close()
  })

  it('keeps acked messages across a workerd restart while the origin is down; all reach MySQL', async () => {
    const [ada, bob] = [await registerUser(stack, 'Ada'), await registerUser(stack, 'Bob')]
    const roomId = await createRoom(stack, ada)
    const sender = await joinRoom(stack, ada, roomId)
    const listener = await joinRoom(stack, bob, roomId)
    const seen: number[] = []
    listener.on('message', (m) => seen.push(m.seq))
    const acks: Ack[] = []
    for (let i = 0; i < 5; i++) acks.push(await sender.send(`before ${i}`))
    const db = await mysql.createConnection(databaseUrl('plaza_it'))
    try {
      await until('the first five in MySQL', async () => (await messageCount(db, roomId)) === 5)
      await until(
        'the room to know they landed',
        async () => (await roomStats(stack, roomId)).unshipped === 0,
      )
      await stack.origin.kill()
      for (let i = 0; i < 5; i++) acks.push(await sender.send(`during ${i}`))
      await until(
        'the room to hold them',
        async () => (await roomStats(stack, roomId)).unshipped === 5,
      )
      await until('the listener to have all ten', () => seen.length === 10)
      sender.close()
      listener.close()

      await stack.restartEdge(500)
      await stack.restartOrigin()
      await until('all ten in MySQL', async () => (await messageCount(db, roomId)) === 10, 30_000)
      const rows = await select<{ seq: number; id: string }>(
        db,
        'SELECT seq, id FROM messages WHERE room_id = ? ORDER BY seq',
        [roomId],
      )
      expect(rows.map((r) => [Number(r.seq), r.id])).toEqual(acks.map((a) => [a.seq, a.id]))
      // The room, woken again, learns from its relay that they landed.
      await until('the room to know', async () => (await roomStats(stack, roomId)).unshipped === 0)
    } finally {
      await db.end()
    }
  }, 120_000)
})
