import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../../shared/ids'
import { select } from '../../support/db'
import { databaseUrl } from '../../support/env'
import { type OriginProcess, postAsEdge, startOrigin } from '../../support/origin'

// The per-room, per-hour rollups the dashboards will read (analytics issue): kept by the
// ingest in the batch's transaction, equal to SQL aggregates over the messages, and never
// counting a batch twice — shipped again, or twice at once.
const secret = 'rollups-test-secret-0123456789abcdef0123'
let origin: OriginProcess
let db: mysql.Connection
const HOUR = 3_600_000
const base = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR

beforeAll(async () => {
  origin = await startOrigin({
    EDGE_SIGNING_SECRET: secret,
    ORIGIN_WORKERS: '2',
    DATABASE_URL: databaseUrl('plaza_test'),
  })
  db = await mysql.createConnection(databaseUrl('plaza_test'))
})

afterAll(async () => {
  await db?.end()
  await origin?.stop()
})

async function ship(payload: unknown) {
  expect((await postAsEdge(origin, secret, '/internal/ingest', payload)).status).toBe(200)
}

/** Messages `from`..`to` of a room, by `authors` in turn, `perHour` to an hour from `base`. */
function batch(from: number, to: number, authors: string[], perHour: number) {
  const messages = []
  for (let seq = from; seq <= to; seq++) {
    const createdAt = base + Math.floor((seq - 1) / perHour) * HOUR + (seq % 60) * 1000
    const author = authors[seq % authors.length]!
    messages.push({ seq, id: newId(), author, clientMsgId: `c${seq}`, body: `m${seq}`, createdAt })
  }
  return { messages, reads: [] }
}

const rollups = (rooms: string[]) =>
  select<{ room_id: string; hour: Date; messages: number; authors: number }>(
    db,
    'SELECT room_id, hour, messages, authors FROM room_hour_stats WHERE room_id IN (?) ORDER BY room_id, hour',
    [rooms],
  ).then((rows) => rows.map((r) => [r.room_id, new Date(r.hour).getTime(), r.messages, r.authors]))

/** The same numbers straight from the messages: what the rollups must equal. */
async function aggregates(rooms: string[]) {
  const rows = await select<{ room_id: string; author_id: string; created_at: Date }>(
    db,
    'SELECT room_id, author_id, created_at FROM messages WHERE room_id IN (?)',
    [rooms],
  )
  const buckets = new Map<string, { messages: number; authors: Set<string> }>()
  for (const r of rows) {
    const key = `${r.room_id}|${Math.floor(new Date(r.created_at).getTime() / HOUR) * HOUR}`
    const b = buckets.get(key) ?? { messages: 0, authors: new Set<string>() }
    b.messages += 1
    b.authors.add(r.author_id)
    buckets.set(key, b)
  }
  return [...buckets]
    .map(([key, b]) => {
      const [room, hour] = key.split('|')
      return [room!, Number(hour), b.messages, b.authors.size] as [string, number, number, number]
    })
    .sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1))
}

describe('hourly rollups kept by the ingest', () => {
  it('equal SQL aggregates over the messages, across rooms, hours and authors', async () => {
    const rooms = [newId(), newId()]
    const authors = [newId(), newId(), newId()]
    await ship({
      rooms: [
        { roomId: rooms[0], batch: batch(1, 25, authors, 10) },
        { roomId: rooms[1], batch: batch(1, 7, authors.slice(0, 1), 4) },
      ],
    })
    // A later batch in an hour that already has rows and authors.
    await ship({ rooms: [{ roomId: rooms[0], batch: batch(26, 30, authors.slice(1), 10) }] })
    const expected = await aggregates(rooms)
    expect(expected.length).toBe(5)
    expect(await rollups(rooms)).toEqual(expected)
  })

  it('count a batch once when it is shipped again, or twice at the same time', async () => {
    const rooms = [newId(), newId()]
    const authors = [newId(), newId()]
    const payload = {
      rooms: rooms.map((roomId) => ({ roomId, batch: batch(1, 40, authors, 15) })),
    }
    // Four at once over two workers: without the ingest's race check, some would count it again.
    await Promise.all([ship(payload), ship(payload), ship(payload), ship(payload)])
    await ship(payload)
    const expected = await aggregates(rooms)
    expect(expected.reduce((n, r) => n + r[2], 0)).toBe(80)
    expect(await rollups(rooms)).toEqual(expected)
  })

  it('count an author once when two shipments of one room and hour bring them at once', async () => {
    const rooms = Array.from({ length: 6 }, () => newId())
    const author = [newId()]
    // Adjacent shipments of each room (the relay keeps two in flight), the same new author.
    await Promise.all(
      rooms.flatMap((roomId) => [
        ship({ rooms: [{ roomId, batch: batch(1, 10, author, 100) }] }),
        ship({ rooms: [{ roomId, batch: batch(11, 20, author, 100) }] }),
      ]),
    )
    const expected = await aggregates(rooms)
    expect(expected.map((r) => r[3])).toEqual(rooms.map(() => 1))
    expect(await rollups(rooms)).toEqual(expected)
  })
})
