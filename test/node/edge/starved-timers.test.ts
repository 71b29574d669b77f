import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WakeUp } from '../../../edge/wake-up'

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
})
