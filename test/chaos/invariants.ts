import mysql from 'mysql2/promise'
import type { Ack, MessageFrame, RoomConnection } from '../../client/src/index'
import type { Stack } from '../../dev/stack'
import { roomStats, type TestUser } from '../support/rooms'

export interface MemberRun {
  user: TestUser
  room: RoomConnection
  received: MessageFrame[]
  acked: Ack[]
  refused: number
}

export interface RoomRun {
  roomId: string
  members: MemberRun[]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `done` until it holds or `ms` pass; false on timeout. */
async function settles(done: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(done)
        .catch(() => false)
    )
      return true
    await sleep(250)
  }
  return false
}

interface Row {
  seq: number
  id: string
  client_msg_id: string | null
}

/** What one room's members and MySQL must agree on, each broken rule a line. */
export function violationsOf(run: RoomRun, roomSeq: number, rows: Row[]): string[] {
  const out: string[] = []
  const room = run.roomId
  const seqs = rows.map((r) => Number(r.seq))
  if (seqs.length !== roomSeq || seqs.some((s, i) => s !== i + 1)) {
    out.push(
      `room ${room}: MySQL holds seqs ${seqs.length} rows up to ${seqs.at(-1)}, not 1..${roomSeq}`,
    )
  }
  const ids = new Map(rows.map((r) => [Number(r.seq), r.id]))
  const clientIds = rows.map((r) => r.client_msg_id).filter(Boolean)
  if (new Set(clientIds).size !== clientIds.length) {
    out.push(`room ${room}: a clientMsgId is stored more than once`)
  }
  for (const m of run.members) {
    for (const ack of m.acked) {
      if (ids.get(ack.seq) !== ack.id) {
        out.push(`room ${room}: acked seq ${ack.seq} (${ack.id}) missing from MySQL`)
      }
    }
    const got = m.received.map((f) => f.seq)
    const inOrder = got.length === roomSeq && got.every((s, i) => s === i + 1)
    if (!inOrder) {
      const dupes = got.length - new Set(got).size
      out.push(
        `room ${room}, ${m.user.name}: received ${got.length} (${dupes} duplicated) of 1..${roomSeq}, in order: ${inOrder}`,
      )
    }
    for (const f of m.received) {
      if (ids.get(f.seq) !== f.id)
        out.push(`room ${room}, ${m.user.name}: seq ${f.seq} differs from MySQL`)
    }
  }
  return out
}

/**
 * After the faults: waits for every send to be answered, every room to land in MySQL and
 * every member to catch up, then checks the invariants (delivered once, in order, no gap,
 * stored once, nothing acked missing). A room that never settles is itself a violation.
 */
export async function checkInvariants(
  stack: Stack,
  databaseUrl: string,
  runs: RoomRun[],
  log: (line: string) => void,
) {
  const members = runs.flatMap((r) => r.members)
  const answered = await settles(() => members.every((m) => m.room.unacked === 0), 120_000)
  if (!answered) {
    const open = members.reduce((n, m) => n + m.room.unacked, 0)
    log(`note: ${open} sends still unanswered (not acked, so not owed)`)
  }
  const violations: string[] = []
  let stored = 0
  const db = await mysql.createConnection(databaseUrl)
  try {
    for (const run of runs) {
      let seq = 0
      let rows: Row[] = []
      const settled = await settles(async () => {
        const stats = await roomStats(stack, run.roomId)
        seq = stats.seq
        const [found] = await db.query(
          'SELECT seq, id, client_msg_id FROM messages WHERE room_id = ? ORDER BY seq',
          [run.roomId],
        )
        rows = found as Row[]
        const caughtUp = run.members.every((m) => (m.received.at(-1)?.seq ?? 0) >= seq)
        return stats.unshipped === 0 && rows.length >= seq && caughtUp
      }, 120_000)
      if (!settled) violations.push(`room ${run.roomId}: did not settle within 120 s (seq ${seq})`)
      violations.push(...violationsOf(run, seq, rows))
      stored += rows.length
    }
  } finally {
    await db.end()
  }
  return {
    acked: members.reduce((n, m) => n + m.acked.length, 0),
    stored,
    delivered: members.reduce((n, m) => n + m.received.length, 0),
    violations,
  }
}
