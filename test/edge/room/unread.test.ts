import { describe, expect, it } from 'vitest'
import { UnreadBound, utf8Length } from '../../../edge/room/unread'

class Peer {
  sent: string[] = []
  send(data: string) {
    this.sent.push(data)
  }
  marks() {
    return this.sent.filter((d) => d.startsWith('{"type":"mark"')).map((d) => JSON.parse(d).id)
  }
}

describe('utf8Length', () => {
  it('agrees with TextEncoder on ASCII, 2-, 3- and 4-byte characters and lone surrogates', () => {
    for (const s of ['plain', 'é', 'ü€', '中文', '😀 ok', 'a\u{10ffff}b', '']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).byteLength)
    }
  })
})

describe('UnreadBound', () => {
  it('closes a peer that owes more than its bound, and sends it nothing after', () => {
    const closed: Peer[] = []
    const bound = new UnreadBound<Peer>(1000, (p) => closed.push(p))
    const peer = new Peer()
    for (let i = 0; i < 11; i++) bound.deliver(peer, 'x'.repeat(100))
    expect(closed).toEqual([peer])
  })

  it('a peer echoing its marks is never closed; one echoing made-up ids is', () => {
    const closed: Peer[] = []
    const bound = new UnreadBound<Peer>(1000, (p) => closed.push(p))
    const reader = new Peer()
    const liar = new Peer()
    for (let i = 0; i < 200; i++) {
      bound.deliver(reader, 'x'.repeat(100))
      for (const id of reader.marks()) bound.answered(reader, id)
      reader.sent = []
      bound.deliver(liar, 'x'.repeat(100))
      bound.answered(liar, `guess-${i}`)
    }
    expect(closed).toEqual([liar])
    expect(bound.owed(reader)).toBeLessThanOrEqual(1000)
  })

  it('marks every quarter of the bound, each with its own id', () => {
    const bound = new UnreadBound<Peer>(1000, () => {})
    const peer = new Peer()
    for (let i = 0; i < 9; i++) bound.deliver(peer, 'x'.repeat(100))
    const ids = peer.marks()
    expect(ids).toHaveLength(3)
    expect(new Set(ids).size).toBe(3)
    bound.answered(peer, ids[1]!)
    expect(bound.owed(peer)).toBe(300) // marks at 300, 600, 900: read through 600
  })
})
