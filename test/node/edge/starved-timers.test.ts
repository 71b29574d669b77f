import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FanOut } from '../../../edge/room/fanout'
import { WakeUp } from '../../../edge/wake-up'
import { toFrame } from '../../../shared/message'

// Under a steady stream of WebSocket frames workerd ran a room's timers seconds late
// (a 1 s hand-over timer fired after 6 s, measured): the object's own events must run
// work that is overdue. Fake timers stand in for a timer that has not fired yet.
beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(1_000_000)
})
afterEach(() => {
  vi.useRealTimers()
})

const message = (seq: number) =>
  toFrame({ seq, id: `m${seq}`, author: 'a', body: `m${seq}`, createdAt: 0, clientMsgId: null })

describe('work that a starved timer would leave waiting', () => {
  it('WakeUp: a request after the pending time runs the work at once, once', () => {
    const work = vi.fn()
    const wake = new WakeUp(work, async () => {}, 30_000)
    wake.at(Date.now() + 1_000)
    wake.at(Date.now() + 1_000)
    expect(work).not.toHaveBeenCalled() // not due yet: the timer's job
    vi.setSystemTime(Date.now() + 3_000) // the timer should have fired, and has not
    wake.at(Date.now() + 1_000)
    expect(work).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(999)
    expect(work).toHaveBeenCalledTimes(1) // the stale timer does not run it again
    vi.advanceTimersByTime(1)
    expect(work).toHaveBeenCalledTimes(2) // the new request's own time
  })

  it('FanOut: a broadcast after the flush was due sends everything queued at once', () => {
    const sent: string[] = []
    const fanout = new FanOut(
      () => [{ send: (d: string) => sent.push(d) }],
      {
        lowestHeld: () => 1,
        range: () => [],
      },
      15,
      0,
    )
    fanout.broadcast(message(1))
    expect(sent).toEqual([]) // coalescing: the flush waits for the turn to end
    vi.setSystemTime(Date.now() + 500)
    fanout.broadcast(message(2))
    expect(sent).toHaveLength(1)
    expect(JSON.parse(sent[0]!).map((f: { seq: number }) => f.seq)).toEqual([1, 2])
    vi.runAllTimers()
    expect(sent).toHaveLength(1) // the stale timer finds nothing left to send
  })
})
