import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MessageFrame } from '../../client/src/index'
import type { Stack } from '../../dev/stack'
import { databaseUrl } from '../support/env'
import { createRoom, join, registerUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

let stack: Stack
let db: mysql.Connection

beforeAll(async () => {
  stack = await startTestStack()
  db = await mysql.createConnection(databaseUrl('plaza_it'))
})

afterAll(async () => {
  await db?.end()
  await stack?.stop()
})

async function rowsOf(roomId: string) {
  const [rows] = await db.query(
    'SELECT seq, body, author_id FROM messages WHERE room_id = ? ORDER BY seq',
    [roomId],
  )
  return rows as Array<{ seq: number; body: string; author_id: string }>
}

describe('rooms', () => {
  it('delivers a message to every member, acks it, and lands it in MariaDB', async () => {
    const ada = await registerUser(stack, 'Ada')
    const bob = await registerUser(stack, 'Bob')
    const roomId = await createRoom(stack, ada)
    const a = await join(stack, ada, roomId)
    const b = await join(stack, bob, roomId)
    const got: MessageFrame[] = []
    b.on('message', (m) => got.push(m))
    await until('ada sees bob', () => a.presence.has(bob.id))
    const ack = await a.send('hello, room')
    expect(ack.seq).toBe(1)
    await until('bob receives', () => got.length === 1)
    expect(got[0]).toMatchObject({ seq: 1, body: 'hello, room', author: ada.id })
    await until('the row lands', async () => (await rowsOf(roomId)).length === 1)
    expect(await rowsOf(roomId)).toEqual([{ seq: 1, body: 'hello, room', author_id: ada.id }])
    a.close()
    b.close()
  })
})
