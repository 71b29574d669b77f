import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import { apiClient, freshIp } from '../support/api'
import { messageCount } from '../support/db'
import { databaseUrl } from '../support/env'
import { createRoom, registerUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// Found by the fault campaign: after an edge restart a room woken by its alarm (not by a
// request) did not know its own id — the runtime gives an alarm-woken object no name — so
// it could not find its relay and its messages never reached MySQL.
let stack: Stack
let persistTo: string

beforeAll(async () => {
  persistTo = await mkdtemp(join(tmpdir(), 'plaza-edge-restart-'))
  stack = await startTestStack({
    edgePersistTo: persistTo,
    // Nothing handed over before the restart; the safety alarm fires soon after it.
    edgeVars: { ROOM_SHIP_DELAY_MS: '60000', ROOM_SHIP_SAFETY_MS: '2000' },
  })
}, 60_000)

afterAll(async () => {
  await stack?.stop()
  await rm(persistTo, { recursive: true, force: true })
})

describe('an edge restart', () => {
  it('a room woken only by its alarm still ships what it acked', async () => {
    const ada = await registerUser(stack, 'Ada')
    const roomId = await createRoom(stack, ada)
    const sent = await apiClient(stack.urls.edge)(`/v1/rooms/${roomId}/messages`, {
      method: 'POST',
      token: ada.token,
      ip: freshIp(),
      json: { clientMsgId: 'before-restart', body: 'acked, then the edge restarted' },
    })
    expect(sent.status).toBe(201)
    await stack.restartEdge(0)
    // No request touches the room now: only its alarm wakes it.
    const db = await mysql.createConnection(databaseUrl('plaza_it'))
    try {
      await until(
        'the message in MySQL',
        async () => (await messageCount(db, roomId)) === 1,
        20_000,
      )
    } finally {
      await db.end()
    }
  }, 60_000)
})
