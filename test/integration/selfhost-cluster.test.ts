import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkLayout } from '../../dev/selfhost-cluster'
import type { Stack } from '../../dev/stack'
import { messageCount } from '../support/db'
import { databaseUrl } from '../support/env'
import {
  createRoom,
  join as joinRoom,
  registerUser,
  roomStats,
  sdkFor,
  until,
} from '../support/rooms'
import { startTestStack } from '../support/stack'

// The self-hosted edge as two workerd processes behind Debian's nginx (PLAZA_EDGE_PROCESSES):
// each room lives in exactly one process, whichever way its traffic comes in.
const state = mkdtempSync(join(tmpdir(), 'plaza-cluster-'))
let stack: Stack

beforeAll(async () => {
  stack = await startTestStack({ edge: 'workerd', edgePersistTo: state, edgeProcesses: 2 })
}, 120_000)

afterAll(async () => {
  await stack?.stop()
  rmSync(state, { recursive: true, force: true })
})

/** Objects of a class with storage in process `n` (one SQLite file each, named by the object's id). */
const storedIn = (n: number, kind: 'room' | 'relay') => {
  const dir = join(state, `edge-${n}`, 'do', `plaza-${kind}`)
  return existsSync(dir)
    ? readdirSync(dir).filter((f) => /^[0-9a-f]{64}\.sqlite$/.test(f)).length
    : 0
}
const roomsStoredIn = (n: number) => storedIn(n, 'room')
/** Enough that all of them landing in one process (2 in 2^ROOMS) is not a flaky test. */
const ROOMS = 16

describe('the self-hosted edge over two workerd processes', () => {
  it("sends all of a room's traffic to one process, spreads rooms over both, and loses nothing", async () => {
    const [ada, bob] = [await registerUser(stack, 'Ada'), await registerUser(stack, 'Bob')]
    const rooms: string[] = []
    for (let i = 0; i < ROOMS; i++) rooms.push(await createRoom(stack, ada))
    const db = await mysql.createConnection(databaseUrl('plaza_it'))
    try {
      for (const roomId of rooms) {
        // Two sockets and an HTTP send, each a request of its own through the router: if
        // any reached the other process, the listener would miss a message or a seq repeat.
        const sender = await joinRoom(stack, ada, roomId)
        const listener = await joinRoom(stack, bob, roomId)
        const seen: number[] = []
        listener.on('message', (m) => seen.push(m.seq))
        expect((await sender.send('over the socket')).seq).toBe(1)
        const posted = await sdkFor(stack, bob).rooms.post(roomId, 'over HTTP')
        expect(posted.seq).toBe(2)
        await until('the listener to have both', () => seen.length === 2)
        expect(seen).toEqual([1, 2])
        expect((await roomStats(stack, roomId)).seq).toBe(2)
        sender.close()
        listener.close()
      }
      for (const roomId of rooms)
        await until('both in MySQL', async () => (await messageCount(db, roomId)) === 2, 30_000)
    } finally {
      await db.end()
    }
    // Rooms over two processes by a hash of their ids: each process holds some.
    expect(roomsStoredIn(0) + roomsStoredIn(1)).toBe(ROOMS)
    expect(roomsStoredIn(0)).toBeGreaterThan(0)
    expect(roomsStoredIn(1)).toBeGreaterThan(0)
    // One relay a process ships all its rooms' messages (fewer, larger shipments).
    expect([storedIn(0, 'relay'), storedIn(1, 'relay')]).toEqual([1, 1])
  }, 120_000)

  it("serves the page, the health check and each process's health check through its router", async () => {
    expect((await fetch(`${stack.urls.edge}/`)).status).toBe(200)
    const health = await fetch(`${stack.urls.edge}/health`)
    expect([200, 503]).toContain(health.status)
    expect(await health.json()).toHaveProperty('status')
    for (const n of [0, 1]) {
      const one = await fetch(`${stack.urls.edge}/health/edge-${n}`)
      expect([200, 503]).toContain(one.status)
      expect(await one.json()).toHaveProperty('status')
    }
    expect((await fetch(`${stack.urls.edge}/health/edge-2`)).status).toBe(404)
  })

  it('refuses to start with another number of processes on the same storage', () => {
    expect(() => checkLayout(state, 3)).toThrow(
      /laid out for 2 edge process\(es\); starting 3 would open rooms on storage that is not theirs/,
    )
    expect(() => checkLayout(state, 2)).not.toThrow()
    // The record lost, the storage itself still says how it was laid out.
    rmSync(join(state, 'layout.json'))
    expect(() => checkLayout(state, 1)).toThrow(/laid out for 2 edge process\(es\)/)
  })
})
