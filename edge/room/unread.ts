/** Anything frames are sent to: a WebSocket, or a test's recorder. */
export interface Peer {
  send(data: string): void
}

interface Ledger {
  /** UTF-8 bytes sent to the socket since the room (re)started counting it. */
  sent: number
  /** `sent` as of the last mark the socket answered: everything before it was read. */
  read: number
  /** `sent` when the last mark went out. */
  lastMark: number
  /** Marks sent and not yet answered, oldest first. */
  marks: Array<{ id: string; at: number }>
}

/** Sends, or does nothing if the socket already went away (its close event cleans up). */
export function sendTo(ws: Peer, data: string): boolean {
  try {
    ws.send(data)
    return true
  } catch {
    return false
  }
}

/** UTF-8 length of a string, without encoding it (one pass over its UTF-16 units). */
export function utf8Length(s: string): number {
  let n = s.length
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // 2 bytes below 0x800, 3 above; a surrogate pair is 4 (2 + 2).
    if (c >= 0x80) n += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2
  }
  return n
}

function markId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9))
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
}

/**
 * What each socket owes the room: workerd gives no `bufferedAmount`, so a socket whose
 * reader stopped reading would make the room (the runtime's send buffer) hold every frame
 * sent to it, without end. Instead the room proves reading: after every quarter of
 * `maxBytes` sent it adds a `mark` with an unguessable id, which the client echoes
 * (`marked`) once it has read that far — TCP is in order, so the echo proves everything
 * before it was read. A socket owing more than `maxBytes` past its last echoed mark is
 * closed (`close`). A made-up id earns nothing. Kept in memory: after a wake, counting
 * starts again at zero (a hibernated room sent nothing meanwhile).
 */
export class UnreadBound<P extends Peer> {
  private readonly ledgers = new WeakMap<P, Ledger>()
  /** Closed for not reading: nothing more is sent to them. */
  private readonly cutOff = new WeakSet<P>()
  private readonly markEvery: number
  /** Sockets closed for not reading (counted for the room's stats). */
  closed = 0

  constructor(
    private readonly maxBytes: number,
    private readonly close: (peer: P) => void,
  ) {
    this.markEvery = Math.max(1, Math.floor(maxBytes / 4))
  }

  /** Sends `data` (`bytes` long, UTF-8) to `peer`, counting it; false if not sent or closed. */
  deliver(peer: P, data: string, bytes = utf8Length(data)): boolean {
    if (this.cutOff.has(peer) || !sendTo(peer, data)) return false
    let ledger = this.ledgers.get(peer)
    if (!ledger) {
      ledger = { sent: 0, read: 0, lastMark: 0, marks: [] }
      this.ledgers.set(peer, ledger)
    }
    ledger.sent += bytes
    if (ledger.sent - ledger.read > this.maxBytes) {
      this.ledgers.delete(peer)
      this.cutOff.add(peer)
      this.closed++
      this.close(peer)
      return false
    }
    if (ledger.sent - ledger.lastMark >= this.markEvery) {
      const id = markId()
      ledger.marks.push({ id, at: ledger.sent })
      ledger.lastMark = ledger.sent
      sendTo(peer, JSON.stringify({ type: 'mark', id }))
    }
    return true
  }

  /** The socket echoed mark `id`: what was sent before it has been read. */
  answered(peer: P, id: string): void {
    const ledger = this.ledgers.get(peer)
    const at = ledger?.marks.findIndex((m) => m.id === id) ?? -1
    if (!ledger || at < 0) return
    ledger.read = ledger.marks[at]!.at
    ledger.marks.splice(0, at + 1)
  }

  /** Bytes `peer` has been sent and not shown to have read (for stats and tests). */
  owed(peer: P): number {
    const ledger = this.ledgers.get(peer)
    return ledger ? ledger.sent - ledger.read : 0
  }
}
