import { type StoredMessage, toFrame } from '../../shared/message'
import type { ServerFrame } from '../../shared/protocol'
import { type Peer, sendTo, utf8Length } from './unread'

export type { Peer } from './unread'

/** Sends `data` (`bytes` long, when known) to one peer; false when it went nowhere. */
export type Deliver = (peer: Peer, data: string, bytes?: number) => boolean

/** What the fan-out reads to replay: the room's store. */
export interface ReplaySource {
  lowestHeld(): number
  range(q: { after: number; before: number; limit: number }): StoredMessage[]
}

const REPLAY_CHUNK = 500

/**
 * Delivery to the room's sockets. Frames for everyone are queued and flushed together:
 * one JSON.stringify per flush, one send per socket, an array when there are several. An
 * idle room flushes on the next turn; a busy one at most once per `intervalMs`. Replays
 * stop at `broadcastSeq`, the last message handed to the sockets, so a replay and the
 * live stream meet without a gap or a duplicate.
 */
export class FanOut {
  /** Highest seq already handed to the sockets. */
  broadcastSeq: number
  private pending: ServerFrame[] = []
  private timer: ReturnType<typeof setTimeout> | undefined
  private lastFlush = 0

  constructor(
    private readonly peers: () => Iterable<Peer>,
    private readonly source: ReplaySource,
    private readonly intervalMs: number,
    seq: number,
    /** What one replay may send at most (DESIGN §2.9: bounded replay). */
    private readonly replayBudget = { maxMessages: 1000, maxBytes: 1 << 20 },
    /** Every frame leaves through here (the room counts what each socket owes). */
    private readonly deliver: Deliver = sendTo,
  ) {
    this.broadcastSeq = seq
  }

  /** Queues a frame for every socket; one flush per turn (or interval) sends them all. */
  broadcast(frame: ServerFrame): void {
    this.pending.push(frame)
    if (this.timer !== undefined) return
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now())
    this.timer = setTimeout(() => this.flush(), wait)
  }

  /**
   * Flushes now if the interval allows: a batch of sends has just been stored, and in a
   * small room the timer would be one more event per message for the same frames.
   */
  flushIfDue(): void {
    if (this.pending.length && Date.now() >= this.lastFlush + this.intervalMs) this.flush()
  }

  /** For everyone but `except` (presence, typing: rare): the queue goes first, to keep order. */
  broadcastExcept(frame: ServerFrame, except: Peer): void {
    this.flush()
    const data = JSON.stringify(frame)
    const bytes = utf8Length(data)
    for (const peer of this.peers()) if (peer !== except) this.deliver(peer, data, bytes)
  }

  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (!this.pending.length) return
    this.lastFlush = Date.now()
    const frames = this.pending
    this.pending = []
    const data = JSON.stringify(frames.length === 1 ? frames[0] : frames)
    const bytes = utf8Length(data)
    for (const peer of this.peers()) this.deliver(peer, data, bytes)
    for (const f of frames) if (f.type === 'message') this.broadcastSeq = f.seq
  }

  /**
   * Sends `peer` what it missed after `lastSeq`, bounded: `gap` for what the room no longer
   * holds or what is beyond the replay's message budget (the oldest part), then the newest
   * messages in order until the byte budget is spent, and a last `gap` for whatever the
   * budget left out. The client pages each gap from history (which also reads the room), so
   * nothing is lost, and no replay makes the room hold more than `maxBytes` for one socket.
   * Returns how many gap frames it sent (-1: nothing to replay).
   */
  replay(peer: Peer, lastSeq: number): number {
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) return -1
    const upTo = this.broadcastSeq
    if (lastSeq >= upTo) return -1
    let gaps = 0
    const { maxMessages, maxBytes } = this.replayBudget
    let from = lastSeq
    const oldestReplayed = Math.max(this.source.lowestHeld(), upTo - maxMessages + 1)
    if (from + 1 < oldestReplayed) {
      this.deliver(peer, JSON.stringify({ type: 'gap', from: from + 1, to: oldestReplayed - 1 }))
      gaps += 1
      from = oldestReplayed - 1
    }
    let bytes = 0
    while (from < upTo) {
      const rows = this.source.range({ after: from, before: upTo + 1, limit: REPLAY_CHUNK })
      if (!rows.length) return gaps
      const frames = []
      for (const row of rows) {
        // UTF-8 is at most 3 bytes per UTF-16 unit; the rest of a frame is well under 200.
        bytes += row.body.length * 3 + 200
        if (bytes > maxBytes) break
        frames.push(toFrame(row))
      }
      if (frames.length && !this.deliver(peer, JSON.stringify(frames))) return gaps
      from = frames.at(-1)?.seq ?? from
      if (frames.length < rows.length) break
    }
    if (from < upTo) {
      this.deliver(peer, JSON.stringify({ type: 'gap', from: from + 1, to: upTo }))
      gaps += 1
    }
    return gaps
  }
}
