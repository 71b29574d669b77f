import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import { createDatabase } from '../../origin/db'
import { enqueueRoomEvent } from '../../origin/events/outbox'
import { newId } from '../../shared/ids'
import { signRequest } from '../../shared/internal/signature'
import { SYSTEM_AUTHOR } from '../../shared/message'
import { roomAnnouncements } from '../../shared/schema'
import { apiClient, freshIp } from '../support/api'
import { select } from '../support/db'
import { databaseUrl } from '../support/env'
import { createRoom, registerUser, type TestUser, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// Server publish into rooms (analytics issue): a signed edge endpoint with a user's
// guarantees, and the transactional outbox — an origin write and its event commit together.
let stack: Stack
let db: mysql.Connection
let owner: TestUser
let roomId: string

beforeAll(async () => {
  stack = await startTestStack()
  db = await mysql.createConnection(databaseUrl('plaza_it'))
  owner = await registerUser(stack, 'Owner')
  roomId = await createRoom(stack, owner)
}, 60_000)

afterAll(async () => {
  await db?.end()
  await stack?.stop()
})

/** A publish as a customer's backend sends it: JSON, signed. */
async function publish(room: string, payload: unknown, secret = stack.secrets.edgeSigningSecret) {
  const path = `/v1/rooms/${room}/publish`
  const body = JSON.stringify(payload)
  const headers = await signRequest(secret, {
    method: 'POST',
    pathWithQuery: path,
    userId: '',
    body: new TextEncoder().encode(body),
  })
  return apiClient(stack.urls.edge)(path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

const stored = (key: string) =>
  select<{ seq: number; author_id: string; body: string }>(
    db,
    'SELECT seq, author_id, body FROM messages WHERE room_id = ? AND client_msg_id = ?',
    [roomId, key],
  )
const history = async () =>
  (
    await apiClient(stack.urls.edge)(`/v1/rooms/${roomId}/messages?limit=100`, {
      token: owner.token,
    })
  ).body.items as Array<{ seq: number; author: string; body: string; clientMsgId: string }>

describe('server publish', () => {
  it('publishes a signed message once however often it is retried with the same key', async () => {
    const first = await publish(roomId, { idempotencyKey: 'deploy-42', body: 'Deploy 42 is out' })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ idempotencyKey: 'deploy-42', seq: expect.any(Number) })
    const again = await publish(roomId, { idempotencyKey: 'deploy-42', body: 'Deploy 42 is out' })
    expect(again.body).toEqual(first.body)
    const mine = (await history()).filter((m) => m.clientMsgId === 'deploy-42')
    expect(mine).toEqual([
      expect.objectContaining({
        seq: first.body.seq,
        author: SYSTEM_AUTHOR,
        body: 'Deploy 42 is out',
      }),
    ])
    await until('it is in MySQL', async () => (await stored('deploy-42')).length === 1)
    expect((await stored('deploy-42'))[0]!.author_id).toBe(SYSTEM_AUTHOR)
  })

  it('refuses an unsigned or forged publish, a bad body and an unknown room', async () => {
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const unsigned = await api(`/v1/rooms/${roomId}/publish`, {
      method: 'POST',
      json: { idempotencyKey: 'x', body: 'hi' },
    })
    expect(unsigned.status).toBe(401)
    const forged = await publish(roomId, { idempotencyKey: 'x', body: 'hi' }, 'f'.repeat(40))
    expect(forged.status).toBe(401)
    expect((await publish(roomId, { idempotencyKey: 'x' })).status).toBe(422)
    expect((await publish(newId(), { idempotencyKey: 'x', body: 'hi' })).status).toBe(404)
    expect((await stored('x')).length).toBe(0)
  })
})

describe('the transactional outbox', () => {
  it('a write rolled back publishes nothing', async () => {
    const database = createDatabase({
      DATABASE_URL: databaseUrl('plaza_it'),
      DATABASE_REPLICA_URLS: [],
      DATABASE_POOL_SIZE: 1,
    })
    let eventId = ''
    try {
      await expect(
        database.primary.transaction(async (tx) => {
          eventId = await enqueueRoomEvent(tx, { roomId, body: 'never said' })
          await tx.insert(roomAnnouncements).values({
            id: newId(),
            roomId,
            authorId: owner.id,
            body: 'never said',
            eventId,
            createdAt: new Date(),
          })
          throw new Error('the app write failed after its event was queued')
        }),
      ).rejects.toThrow(/app write failed/)
    } finally {
      await database.close()
    }
    // The relay polls every second: two passes later, still nothing.
    await new Promise((r) => setTimeout(r, 2_500))
    expect(
      await select(db, '/* test */ SELECT id FROM room_event_outbox WHERE id = ?', [eventId]),
    ).toEqual([])
    expect((await history()).some((m) => m.body === 'never said')).toBe(false)
    expect(await stored(eventId)).toEqual([])
  })

  it('a committed write publishes its event exactly once, even when relayed again', async () => {
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const res = await api(`/v1/rooms/${roomId}/announcements`, {
      method: 'POST',
      token: owner.token,
      json: { body: 'Maintenance at noon' },
    })
    expect(res.status).toBe(202)
    const { eventId } = res.body
    await until('published into the room', async () =>
      (await history()).some((m) => m.clientMsgId === eventId),
    )
    // Marked in the relay's transaction after the room's ack: a moment after it shows.
    const marked = async () =>
      (
        await select<{ seq: number }>(
          db,
          '/* test */ SELECT seq FROM room_event_outbox WHERE id = ? AND published_at IS NOT NULL',
          [eventId],
        )
      )[0]
    await until('marked published', async () => !!(await marked()))
    const row = await marked()
    expect(Number(row?.seq)).toBeGreaterThan(0)
    // The relay crashed after the room's ack but before marking: it publishes again.
    await db.query('/* test */ UPDATE room_event_outbox SET published_at = NULL WHERE id = ?', [
      eventId,
    ])
    await until('marked again', async () => {
      const [again] = await select<{ seq: number }>(
        db,
        '/* test */ SELECT seq FROM room_event_outbox WHERE id = ? AND published_at IS NOT NULL',
        [eventId],
      )
      return Number(again?.seq) === Number(row!.seq)
    })
    const copies = (await history()).filter((m) => m.clientMsgId === eventId)
    expect(copies).toHaveLength(1)
    expect(copies[0]).toMatchObject({ author: SYSTEM_AUTHOR, body: 'Maintenance at noon' })
    await until('in MySQL once', async () => (await stored(eventId)).length === 1)
  })

  it("refuses an announcement from anyone but the room's owner", async () => {
    const other = await registerUser(stack, 'Other')
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const res = await api(`/v1/rooms/${roomId}/announcements`, {
      method: 'POST',
      token: other.token,
      json: { body: 'not mine to say' },
    })
    expect(res.status).toBe(403)
    const [count] = await select<{ n: number }>(
      db,
      '/* test */ SELECT count(*) AS n FROM room_announcements WHERE body = ?',
      ['not mine to say'],
    )
    expect(Number(count!.n)).toBe(0)
  })
})
