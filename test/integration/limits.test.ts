import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type MiniflareEdge, startMiniflareEdge } from '../../dev/edge'
import type { Stack } from '../../dev/stack'
import { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../../shared/protocol'
import { apiClient, awayFromWindowEdge, freshEmail, freshIp } from '../support/api'
import { startTestStack } from '../support/stack'

let stack: Stack
let second: MiniflareEdge

beforeAll(async () => {
  // A per-email ceiling small enough to reach in a test.
  stack = await startTestStack({ edgeVars: { RATE_LIMIT_AUTH_PER_EMAIL_15_MINUTES: '20' } })
  // A second edge process with the same configuration: limits must be shared through Redis.
  second = await startMiniflareEdge({ vars: stack.edgeVars })
})

afterAll(async () => {
  await second?.close()
  await stack?.stop()
})

async function profileId(): Promise<string> {
  const res = await apiClient(stack.urls.edge)('/v1/auth/register', {
    method: 'POST',
    ip: freshIp(),
    json: { email: freshEmail(), password: 'correct horse battery', displayName: 'Limited' },
  })
  return res.body.user.id
}

describe('rate limits', () => {
  it('lets exactly 100 anonymous requests a minute through, then answers 429 with the headers', async () => {
    const id = await profileId()
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    await awayFromWindowEdge()
    for (let i = 1; i <= 100; i++) {
      const res = await api(`/v1/profiles/${id}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-limit')).toBe('100')
      expect(res.headers.get('ratelimit-remaining')).toBe(String(100 - i))
    }
    const refused = await api(`/v1/profiles/${id}`)
    expect(refused.status).toBe(429)
    expect(refused.body.error.code).toBe('rate_limited')
    expect(refused.headers.get('ratelimit-limit')).toBe('100')
    expect(refused.headers.get('ratelimit-remaining')).toBe('0')
    const reset = Number(refused.headers.get('ratelimit-reset'))
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(reset).toBeGreaterThan(0)
    expect(reset).toBeLessThanOrEqual(60)
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
  })

  it('shares one limit across two edge processes', async () => {
    const id = await profileId()
    const ip = freshIp()
    const edges = [apiClient(stack.urls.edge, { ip }), apiClient(second.url, { ip })]
    const statuses: number[] = []
    for (let i = 0; i < 101; i++) statuses.push((await edges[i % 2]!(`/v1/profiles/${id}`)).status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(100)
    expect(statuses[100]).toBe(429)
  })

  it('counts requests a cached route rejects as bad input, and refuses them at the limit', async () => {
    const id = await profileId()
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    await awayFromWindowEdge()
    for (let i = 1; i <= 100; i++) {
      const bad = await api('/v1/profiles/not-an-id')
      expect(bad.status).toBe(400)
      expect(bad.headers.get('ratelimit-remaining')).toBe(String(100 - i))
    }
    expect((await api('/v1/profiles/not-an-id')).status).toBe(429)
    const good = await api(`/v1/profiles/${id}`)
    expect(good.status).toBe(429)
    expect(good.body.error.code).toBe('rate_limited')
  })

  it('limits sign-in attempts per email across IPs (a looser ceiling), and per IP across emails', async () => {
    const api = apiClient(stack.urls.edge)
    const email = freshEmail('target')
    const attempts = []
    for (let i = 0; i < 21; i++) {
      attempts.push(
        (
          await api('/v1/auth/login', {
            method: 'POST',
            ip: freshIp(),
            json: { email, password: `guess-${i}-xxxxx` },
          })
        ).status,
      )
    }
    expect(attempts.slice(0, 20).every((s) => s === 401)).toBe(true)
    expect(attempts[20]).toBe(429)

    const ip = freshIp()
    const fromOneIp = []
    for (let i = 0; i < 11; i++) {
      fromOneIp.push(
        (
          await api('/v1/auth/login', {
            method: 'POST',
            ip,
            json: { email: freshEmail(), password: 'whatever-123' },
          })
        ).status,
      )
    }
    expect(fromOneIp.slice(0, 10).every((s) => s === 401)).toBe(true)
    expect(fromOneIp[10]).toBe(429)
  })

  it('a stranger cannot lock an owner out: guesses from elsewhere leave the owner signing in', async () => {
    const api = apiClient(stack.urls.edge)
    const email = freshEmail('owner')
    const ownerIp = freshIp()
    const password = 'correct horse battery'
    const reg = await api('/v1/auth/register', {
      method: 'POST',
      ip: ownerIp,
      json: { email, password, displayName: 'Owner' },
    })
    expect(reg.status).toBe(201)
    const strangerIp = freshIp()
    const guesses = []
    for (let i = 0; i < 11; i++) {
      const guess = await api('/v1/auth/login', {
        method: 'POST',
        ip: strangerIp,
        json: { email, password: `guess-${i}-xxxxx` },
      })
      guesses.push(guess.status)
    }
    expect(guesses.slice(0, 10).every((s) => s === 401)).toBe(true)
    expect(guesses[10]).toBe(429) // the stranger is stopped…
    const owner = await api('/v1/auth/login', {
      method: 'POST',
      ip: ownerIp,
      json: { email, password },
    })
    expect(owner.status).toBe(200) // …the owner is not
  })

  it('applies a per-route override from RATE_LIMIT_ROUTES', async () => {
    const id = await profileId()
    const tight = await startMiniflareEdge({
      vars: { ...stack.edgeVars, RATE_LIMIT_ROUTES: JSON.stringify({ 'GET /v1/profiles/:id': 3 }) },
    })
    try {
      const api = apiClient(tight.url, { ip: freshIp() })
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((await api(`/v1/profiles/${id}`)).status)
      expect(statuses).toEqual([200, 200, 200, 429])
      expect((await api('/v1/profiles?limit=1')).headers.get('ratelimit-limit')).toBe('100')
    } finally {
      await tight.close()
    }
  })

  it("counts a room socket's connects in the isolate: the route's limit holds, with no Upstash round trip", async () => {
    await awayFromWindowEdge()
    const tight = await startMiniflareEdge({
      vars: { ...stack.edgeVars, RATE_LIMIT_ROUTES: JSON.stringify({ 'GET /v1/rooms/:id/ws': 3 }) },
    })
    const sockets: WebSocket[] = []
    try {
      const api = apiClient(tight.url, { ip: freshIp() })
      const reg = await api('/v1/auth/register', {
        method: 'POST',
        json: { email: freshEmail(), password: 'correct horse battery', displayName: 'Sockets' },
      })
      const token = reg.body.tokens.accessToken as string
      const room = await api('/v1/rooms', { method: 'POST', token, json: { name: 'limited' } })
      const url = `${tight.url.replace('http', 'ws')}/v1/rooms/${room.body.id}/ws`
      // 101 when the room's welcome arrives, else the HTTP status of the refused upgrade.
      const connect = () =>
        new Promise<number>((resolve, reject) => {
          const ws = new WebSocket(url, [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`])
          sockets.push(ws)
          ws.on('message', (data) => String(data).includes('"welcome"') && resolve(101))
          ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
          ws.on('error', reject)
        })
      const before = stack.standIns.upstash.requests
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push(await connect())
      expect(statuses).toEqual([101, 101, 101, 429])
      expect(stack.standIns.upstash.requests - before).toBe(0)
    } finally {
      for (const ws of sockets) ws.terminate()
      await tight.close()
    }
  })

  it("counts HTTP sends in the isolate, the room's send budget being their shared limit: no Upstash round trip per send", async () => {
    await awayFromWindowEdge()
    const tight = await startMiniflareEdge({
      vars: {
        ...stack.edgeVars,
        RATE_LIMIT_ROUTES: JSON.stringify({ 'POST /v1/rooms/:id/messages': 4 }),
        ROOM_USER_SENDS_BURST: '2',
        ROOM_USER_SENDS_PER_SECOND: '1',
        // Nothing ships during the test: the origin's own Upstash calls stay out of the count.
        ROOM_SHIP_DELAY_MS: '60000',
      },
    })
    try {
      const api = apiClient(tight.url, { ip: freshIp() })
      const reg = await api('/v1/auth/register', {
        method: 'POST',
        json: { email: freshEmail(), password: 'correct horse battery', displayName: 'Sender' },
      })
      const token = reg.body.tokens.accessToken as string
      const room = await api('/v1/rooms', { method: 'POST', token, json: { name: 'sends' } })
      const before = stack.standIns.upstash.requests
      const answers = []
      for (let i = 0; i < 5; i++) {
        answers.push(
          await api(`/v1/rooms/${room.body.id}/messages`, {
            method: 'POST',
            token,
            json: { clientMsgId: `c${i}`, body: `m${i}` },
          }),
        )
      }
      expect(answers.map((a) => a.status)).toEqual([201, 201, 429, 429, 429])
      // The room's budget (burst 2) refused the third and fourth: it names the send…
      expect(answers[2]!.body.error.details).toEqual({ clientMsgId: 'c2' })
      expect(answers[2]!.headers.get('retry-after')).toBe('1')
      // …the edge's count (4 a minute, in the isolate) the fifth, before the room saw it.
      expect(answers[4]!.body.error.details).toBeUndefined()
      expect(answers[3]!.headers.get('ratelimit-remaining')).toBe('0')
      expect(stack.standIns.upstash.requests - before).toBe(0)
    } finally {
      await tight.close()
    }
  })

  it('gives a signed-in user the per-user budget', async () => {
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const reg = await api('/v1/auth/register', {
      method: 'POST',
      json: { email: freshEmail(), password: 'correct horse battery', displayName: 'Budget' },
    })
    const me = await api('/v1/me', { token: reg.body.tokens.accessToken })
    expect(me.status).toBe(200)
    expect(me.headers.get('ratelimit-limit')).toBe('600')
  })
})
