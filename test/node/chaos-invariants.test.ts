import { describe, expect, it } from 'vitest'
import type { MessageFrame } from '../../client/src/index'
import { type RoomRun, violationsOf } from '../chaos/invariants'

// The campaign's judge must be able to say no: each broken rule, on made-up runs.
const frame = (seq: number): MessageFrame => ({
  type: 'message',
  seq,
  id: `id${seq}`,
  author: 'a',
  body: `m${seq}`,
  createdAt: new Date(0).toISOString(),
})
const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    id: `id${i + 1}`,
    client_msg_id: `c${i + 1}`,
  }))
const run = (
  received: MessageFrame[],
  acked = [{ clientMsgId: 'c1', seq: 1, id: 'id1' }],
): RoomRun => ({
  roomId: 'r',
  // biome-ignore lint/suspicious/noExplicitAny: the judge reads only these fields.
  members: [{ user: { name: 'A' } as any, room: {} as any, received, acked, refused: 0 }],
})

describe('the chaos invariants', () => {
  it('pass a clean run', () => {
    expect(violationsOf(run([frame(1), frame(2), frame(3)]), 3, rows(3))).toEqual([])
  })

  it('catch a gap, a duplicate, a reorder and a missing acked message', () => {
    expect(violationsOf(run([frame(1), frame(3)]), 3, rows(3))).toHaveLength(1)
    expect(violationsOf(run([frame(1), frame(2), frame(2), frame(3)]), 3, rows(3))).toHaveLength(1)
    expect(violationsOf(run([frame(2), frame(1), frame(3)]), 3, rows(3))).toHaveLength(1)
    const lost = violationsOf(
      run([frame(1), frame(2)], [{ clientMsgId: 'c9', seq: 9, id: 'id9' }]),
      2,
      rows(2),
    )
    expect(lost.join()).toMatch(/acked seq 9/)
  })

  it('catch MySQL holding a hole or a message twice', () => {
    const holed = rows(3).filter((r) => r.seq !== 2)
    expect(violationsOf(run([frame(1), frame(2), frame(3)]), 3, holed).join()).toMatch(
      /MySQL holds/,
    )
    const twice = [...rows(2), { seq: 3, id: 'id3', client_msg_id: 'c1' }]
    expect(violationsOf(run([frame(1), frame(2), frame(3)]), 3, twice).join()).toMatch(
      /more than once/,
    )
  })
})
