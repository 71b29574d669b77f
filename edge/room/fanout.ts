import { toFrame } from '../../shared/message'
import type { ServerFrame } from '../../shared/protocol'
import { sendTo } from './sockets'

/** Anything a frame can be sent to: a WebSocket, or a test's recorder. */
export interface Peer {
  send(data: string): void
}

/** What the fan-out reads to replay: the room's store. */
export interface ReplaySource {
  lowestHeld(): number
  range(q: { after: number; before: number; limit: number }): Array<Parameters<typeof toFrame>[0]>
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
  private flushQueued = false
  private lastFlush = 0

  constructor(
    private readonly peers: () => Iterable<Peer>,
    private readonly source: ReplaySource,
    private readonly intervalMs: number,
    seq: number,
  ) {
    this.broadcastSeq = seq
  }

  /** Queues a frame for every socket; one flush per turn (or interval) sends them all. */
  broadcast(frame: ServerFrame): void {
    this.pending.push(frame)
    if (this.flushQueued) return
    this.flushQueued = true
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now())
    setTimeout(() => this.flush(), wait)
  }

  /** For everyone but `except` (presence, typing: rare): the queue goes first, to keep order. */
  broadcastExcept(frame: ServerFrame, except: Peer): void {
    this.flush()
    const data = JSON.stringify(frame)
    for (const peer of this.peers()) if (peer !== except) sendTo(peer, data)
  }

  flush(): void {
    this.flushQueued = false
    if (!this.pending.length) return
    this.lastFlush = Date.now()
    const frames = this.pending
    this.pending = []
    const data = JSON.stringify(frames.length === 1 ? frames[0] : frames)
    for (const peer of this.peers()) sendTo(peer, data)
    for (const f of frames) if (f.type === 'message') this.broadcastSeq = f.seq
  }

  /** Sends `peer` what it missed after `lastSeq`: `gap` for what the room no longer holds, then the rest in order. */
  replay(peer: Peer, lastSeq: number): void {
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) return
    const upTo = this.broadcastSeq
    if (lastSeq >= upTo) return
    const lowest = this.source.lowestHeld()
    let from = lastSeq
    if (from + 1 < lowest) {
      sendTo(peer, JSON.stringify({ type: 'gap', from: from + 1, to: lowest - 1 }))
      from = lowest - 1
    }
    while (from < upTo) {
      const rows = this.source.range({ after: from, before: upTo + 1, limit: REPLAY_CHUNK })
      if (!rows.length) return
      if (!sendTo(peer, JSON.stringify(rows.map(toFrame)))) return
      from = rows.at(-1)!.seq
    }
  }
}
