import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../../shared/ids'
import { messageCount, select } from '../../support/db'
import { databaseUrl } from '../../support/env'
import { type OriginProcess, postAsEdge, startOrigin } from '../../support/origin'

// The ingest the room objects ship their outboxes to: idempotent on (room_id, seq).
const secret = 'ingest-test-secret-0123456789abcdef0123'
let origin: OriginProcess
let db: mysql.Connection

beforeAll(async () => {
  origin = await startOrigin({
    EDGE_SIGNING_SECRET: secret,
    ORIGIN_WORKERS: '1',
    DATABASE_URL: databaseUrl('plaza_test'),
  })
  db = await mysql.createConnection(databaseUrl('plaza_test'))
})

afterAll(async () => {
  await db?.end()
  await origin?.stop()
})

async function ship(roomId: string, batch: unknown, signed = true) {
  return post(`/internal/rooms/${roomId}/ingest`, batch, signed)
}

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever body the origin answered.
const post = async (path: string, payload: unknown, signed = true): Promise<any> =>
  postAsEdge(origin, signed ? secret : null, path, payload)

const message = (seq: number, author: string) => ({
  seq,
  id: newId(),
  author,
  clientMsgId: `c${seq}`,
  body: `message ${seq}`,
  createdAt: Date.now(),
})

describe('POST /internal/rooms/:id/ingest', () => {
  it('refuses a seq already stored with another message (409, nothing changed), never dropping it silently', async () => {
    const roomId = newId()
    const author = newId()
    const first = { messages: [message(1, author), message(2, author)], reads: [] }
    expect((await ship(roomId, first)).status).toBe(200)
    // The room lost its storage and numbered from 1 again: same seqs, new messages.
    const renumbered = { messages: [message(2, author), message(3, author)], reads: [] }
    const refused = await ship(roomId, renumbered)
    expect(refused.status).toBe(409)
    expect(refused.body.error).toMatchObject({ code: 'conflict', details: { seqs: [2] } })
    const rows = await select<{ seq: number; id: string }>(
      db,
      'SELECT seq, id FROM messages WHERE room_id = ? ORDER BY seq',
      [roomId],
    )
    expect(rows).toEqual(first.messages.map((m) => ({ seq: m.seq, id: m.id })))
  })

  it('stores a batch in one go, and a batch shipped twice (a lost answer) changes nothing', async () => {
    const roomId = newId()
    const author = newId()
    const batch = { messages: [1, 2, 3].map((s) => message(s, author)), reads: [] }
    expect(await ship(roomId, batch)).toEqual({ status: 200, body: { stored: 3, reads: 0 } })
    expect((await ship(roomId, batch)).status).toBe(200)
    // A retry overlapping what landed carries the same messages (same ids) again.
    const overlapping = { messages: [batch.messages[2]!, message(4, author)], reads: [] }
    expect((await ship(roomId, overlapping)).status).toBe(200)
    expect(await messageCount(db, roomId)).toBe(4)
    const rows = await select<{ seq: number; id: string }>(
      db,
      'SELECT seq, id FROM messages WHERE room_id = ? ORDER BY seq',
      [roomId],
    )
    // A retry never rewrites a stored message.
    expect(rows.map((r) => r.id)).toEqual([
      batch.messages[0]!.id,
      batch.messages[1]!.id,
      batch.messages[2]!.id,
      overlapping.messages[1]!.id,
    ])
  })

  it('moves read markers forward only', async () => {
    const roomId = newId()
    const user = newId()
    await db.query(
      'INSERT INTO room_members (room_id, user_id, role, last_read_seq, joined_at) VALUES (?, ?, ?, ?, ?)',
      [roomId, user, 'member', 5, new Date()],
    )
    await ship(roomId, { messages: [], reads: [{ user, seq: 3 }] })
    await ship(roomId, { messages: [], reads: [{ user, seq: 9 }] })
    const [row] = await select<{ last_read_seq: number }>(
      db,
      'SELECT last_read_seq FROM room_members WHERE room_id = ? AND user_id = ?',
      [roomId, user],
    )
    expect(Number(row?.last_read_seq)).toBe(9)
  })

  it('refuses unsigned and malformed batches, storing nothing', async () => {
    const roomId = newId()
    const unsigned = await ship(roomId, { messages: [message(1, newId())], reads: [] }, false)
    expect(unsigned.status).toBe(401)
    const malformed = await ship(roomId, { messages: [{ seq: -1 }], reads: [] })
    expect(malformed.status).toBe(422)
    expect(await messageCount(db, roomId)).toBe(0)
  })
})

describe('POST /internal/ingest (a relay: many rooms in one shipment)', () => {
  const rowsOf = (roomId: string) =>
    select<{ seq: number; id: string }>(
      db,
      'SELECT seq, id FROM messages WHERE room_id = ? ORDER BY seq',
      [roomId],
    )

  it('stores every room of a shipment in one go, and a shipment sent twice changes nothing', async () => {
    const rooms = [newId(), newId(), newId()]
    const author = newId()
    const payload = {
      rooms: rooms.map((roomId, i) => ({
        roomId,
        batch: { messages: [1, 2, 3].slice(0, i + 1).map((s) => message(s, author)), reads: [] },
      })),
    }
    const first = await post('/internal/ingest', payload)
    expect(first).toEqual({
      status: 200,
      body: { rooms: rooms.map((roomId) => ({ roomId, stored: true })) },
    })
    expect((await post('/internal/ingest', payload)).status).toBe(200)
    expect(await Promise.all(rooms.map((r) => messageCount(db, r)))).toEqual([1, 2, 3])
  })

  it('refuses a colliding or invalid room on its own; the other rooms of the shipment land', async () => {
    const [clean, renumbered, broken] = [newId(), newId(), newId()]
    const author = newId()
    const earlier = message(1, author)
    expect((await ship(renumbered, { messages: [earlier], reads: [] })).status).toBe(200)
    const payload = {
      rooms: [
        { roomId: clean, batch: { messages: [message(1, author)], reads: [] } },
        {
          roomId: renumbered,
          batch: { messages: [message(1, author), message(2, author)], reads: [] },
        },
        { roomId: broken, batch: { messages: [{ seq: -1 }], reads: [] } },
      ],
    }
    const answer = await post('/internal/ingest', payload)
    expect(answer.status).toBe(200)
    expect(answer.body.rooms).toMatchObject([
      { roomId: clean, stored: true },
      { roomId: renumbered, stored: false, status: 409 },
      { roomId: broken, stored: false, status: 422 },
    ])
    expect(await rowsOf(clean)).toHaveLength(1)
    // The collided room keeps its old row and gains nothing (seq 2 is not half-stored).
    expect(await rowsOf(renumbered)).toEqual([{ seq: 1, id: earlier.id }])
    expect(await messageCount(db, broken)).toBe(0)
  })

  it('refuses a shipment past the bound (413), a room twice (422), and unsigned calls (401)', async () => {
    const roomId = newId()
    const author = newId()
    const many = Array.from({ length: 2_600 }, (_, i) => message(i + 1, author))
    const tooMany = {
      rooms: [
        { roomId, batch: { messages: many, reads: [] } },
        { roomId: newId(), batch: { messages: many, reads: [] } },
      ],
    }
    expect((await post('/internal/ingest', tooMany)).status).toBe(413)
    const twice = { rooms: [0, 1].map(() => ({ roomId, batch: { messages: [], reads: [] } })) }
    expect((await post('/internal/ingest', twice)).status).toBe(422)
    const one = { rooms: [{ roomId, batch: { messages: [message(1, author)], reads: [] } }] }
    expect((await post('/internal/ingest', one, false)).status).toBe(401)
    expect(await messageCount(db, roomId)).toBe(0)
  })
})
