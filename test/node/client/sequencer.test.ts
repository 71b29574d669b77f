import { describe, expect, it } from 'vitest'
import { Sequencer } from '../../../client/src/sequencer'
import type { Message, MessageFrame } from '../../../shared/message'

const message = (seq: number): Message => ({
  seq,
  id: `id${seq}`,
  author: 'a',
  body: `m${seq}`,
  createdAt: new Date(0).toISOString(),
  clientMsgId: null,
})
const frame = (seq: number): MessageFrame => ({
  type: 'message',
  ...message(seq),
  clientMsgId: undefined,
})

describe('the SDK sequencer', () => {
  it('pages a gap again when history fails, so held messages are not stuck behind it', async () => {
    const delivered: number[] = []
    let failures = 1
    const sequencer = new Sequencer(
      0,
      (f) => delivered.push(f.seq),
      async (after) => {
        if (failures-- > 0) throw new Error('history unreachable (database down)')
        return { items: [1, 2, 3].filter((s) => s > after).map(message), full: false }
      },
      () => {},
    )
    sequencer.receive(frame(4))
    sequencer.fill(1, 3)
    await new Promise((r) => setTimeout(r, 1_500))
    expect(delivered).toEqual([1, 2, 3, 4])
    sequencer.stop()
  })
})
