import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { newId } from '../../../shared/ids'
import type { TilesFrame } from '../../../shared/live'

/** A subscriber as the edge connects one, recording the tiles frames it is sent. */
async function subscribe(channel: string, expiresInSeconds = 900) {
  const res = await env.LIVE.getByName(channel).fetch('https://live/ws', {
    headers: {
      upgrade: 'websocket',
      'sec-websocket-protocol': 'plaza.v1, plaza.bearer.secret-token',
      'x-plaza-user': newId(),
      'x-plaza-token-exp': String(Math.floor(Date.now() / 1000) + expiresInSeconds),
    },
  })
  const ws = res.webSocket!
  const frames: Array<TilesFrame & { at: number }> = []
  const closed = new Promise<number>((resolve) =>
    ws.addEventListener('close', (e) => resolve(e.code)),
  )
  ws.addEventListener('message', (e) =>
    frames.push({ ...JSON.parse(String(e.data)), at: Date.now() }),
  )
  ws.accept()
  return { ws, frames, closed, protocol: res.headers.get('sec-websocket-protocol') }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('the live dashboard channel', () => {
  it('sends a tile at most once a second, its latest value, and everything to a new subscriber', async () => {
    const channel = `live-${newId()}`
    const first = await subscribe(channel)
    // The token offered as a subprotocol is never chosen back.
    expect(first.protocol).toBe('plaza.v1')
    const live = env.LIVE.getByName(channel)
    for (let n = 1; n <= 5; n++) await live.update({ messagesPerMinute: n })
    await live.update({ activeRooms: 2 })
    await sleep(1_300)
    const tiles = first.frames.map((f) => f.tiles)
    // On subscribe: nothing yet. Then 1 at once, 5 (the latest) a second later; rooms at once.
    expect(tiles).toEqual([
      {},
      { messagesPerMinute: 1 },
      { activeRooms: 2 },
      { messagesPerMinute: 5 },
    ])
    const [, once, , later] = first.frames
    expect(later!.at - once!.at).toBeGreaterThanOrEqual(950)

    const second = await subscribe(channel)
    await sleep(50)
    expect(second.frames.map((f) => f.tiles)).toEqual([{ messagesPerMinute: 5, activeRooms: 2 }])
  })

  it('closes a subscriber that sends anything, and one whose token has expired', async () => {
    const channel = `live-${newId()}`
    const talker = await subscribe(channel)
    talker.ws.send('hello?')
    expect(await talker.closed).toBe(1008)
    const expired = await subscribe(channel, -1)
    await env.LIVE.getByName(channel).update({ socketsOpen: 1 })
    expect(await expired.closed).toBe(4401)
  })
})
