import { importJWK, SignJWT } from 'jose'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMiniflareEdge } from '../../dev/edge'
import type { Stack } from '../../dev/stack'
import { newId } from '../../shared/ids'
import { apiClient, awayFromWindowEdge, freshIp } from '../support/api'
import { databaseUrl } from '../support/env'
import { createRoom, rawSocket, registerUser, roomStats, until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// Behaviours the hardening issue found, each pinned (each failed on the code before its fix).
let stack: Stack
let api: ReturnType<typeof apiClient>

beforeAll(async () => {
  stack = await startTestStack()
  api = apiClient(stack.urls.edge, { ip: freshIp() })
}, 60_000)

afterAll(async () => {
  await stack?.stop()
})

describe('private rooms are invisible', () => {
  it('a non-member gets exactly what a room that does not exist gets, on every room route', async () => {
    const ada = await registerUser(stack, 'Ada')
    const eve = await registerUser(stack, 'Eve')
    const secret = await createRoom(stack, ada, true)
    const missing = newId()
    const probes: Array<[string, string, unknown?]> = [
      ['GET', 'messages'],
      ['POST', 'messages', { clientMsgId: 'probe', body: 'hi' }],
      ['GET', 'presence'],
      ['POST', 'read', { seq: 1 }],
    ]
    for (const [method, route, json] of probes) {
      const ask = (id: string, token?: string) =>
        api(`/v1/rooms/${id}/${route}`, { method, token, json })
      for (const token of [eve.token, undefined]) {
        const [hidden, absent] = await Promise.all([ask(secret, token), ask(missing, token)])
        expect({ route, status: hidden.status, body: hidden.body }).toEqual({
          route,
          status: absent.status,
          body: absent.body,
        })
      }
    }
    const [hidden, absent] = await Promise.all([
      rawSocket(stack, secret, eve.token),
      rawSocket(stack, missing, eve.token),
    ])
    expect(await hidden.closed).toEqual(await absent.closed)
  })
})

describe('message bodies', () => {
  it('one rule for WebSocket and HTTP: empty bodies and lone surrogates are refused, nothing stored', async () => {
    const ada = await registerUser(stack, 'Ada')
    const roomId = await createRoom(stack, ada)
    const raw = await rawSocket(stack, roomId, ada.token)
    await until('welcome', () => raw.frames.some((f) => f.type === 'welcome'))
    raw.ws.send(JSON.stringify({ type: 'send', clientMsgId: 'empty', body: '' }))
    raw.ws.send('{"type":"send","clientMsgId":"lone","body":"a\\ud800b"}')
    await until('two errors', () => raw.frames.filter((f) => f.type === 'error').length === 2)
    expect(raw.frames.filter((f) => f.type === 'error').map((f) => f.code)).toEqual([
      'bad_frame',
      'bad_frame',
    ])
    const post = (body: string) =>
      fetch(`${stack.urls.edge}/v1/rooms/${roomId}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.token}` },
        body,
      })
    expect((await post('{"clientMsgId":"h1","body":"a\\udc00"}')).status).toBe(422)
    expect((await post('{"clientMsgId":"h2","body":""}')).status).toBe(422)
    expect((await roomStats(stack, roomId)).seq).toBe(0)
    // Well-formed text outside the BMP goes through unchanged, live and in history.
    const ok = await api(`/v1/rooms/${roomId}/messages`, {
      method: 'POST',
      token: ada.token,
      json: { clientMsgId: 'h3', body: 'hi 😀' },
    })
    expect(ok.status).toBe(201)
    const history = await api(`/v1/rooms/${roomId}/messages`, { token: ada.token })
    expect(history.body.items.map((m: { body: string }) => m.body)).toEqual(['hi 😀'])
    raw.ws.close()
  })
})

describe('history caching', () => {
  it('never caches the newest page: a page reaching past what the room holds stays live', async () => {
    const ada = await registerUser(stack, 'Ada')
    const roomId = await createRoom(stack, ada)
    const path = `/v1/rooms/${roomId}/messages`
    const send = async (n: number) => {
      const res = await api(path, {
        method: 'POST',
        token: ada.token,
        json: { clientMsgId: `n${n}`, body: `m${n}` },
      })
      expect(res.status).toBe(201)
    }
    for (let n = 1; n <= 3; n++) await send(n)
    await until('shipped', async () => (await roomStats(stack, roomId)).unshipped === 0)
    const newest = `${path}?before=1000000&limit=2`
    const first = await api(newest, { token: ada.token })
    expect(first.body.items.map((m: { seq: number }) => m.seq)).toEqual([2, 3])
    expect(first.headers.get('x-cache')).toBe('BYPASS')
    for (let n = 4; n <= 5; n++) await send(n)
    const later = await api(newest, { token: ada.token })
    expect(later.body.items.map((m: { seq: number }) => m.seq)).toEqual([4, 5])
    // A page entirely below what has shipped is immutable, and cached.
    await until('shipped', async () => (await roomStats(stack, roomId)).unshipped === 0)
    const older = `${path}?before=3&limit=2`
    expect((await api(older, { token: ada.token })).headers.get('x-cache')).toBe('MISS')
    await until('stored', async () => {
      const again = await api(older, { token: ada.token })
      return again.headers.get('x-cache') === 'HIT'
    })
  })
})

describe('/health', () => {
  it('tells anonymous callers only up or down, and a flood of calls shares one round of probes', async () => {
    const before = stack.standIns.planetscale.requests
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api('/health', { ip: freshIp() })),
    )
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200))
    for (const a of answers) expect(a.body).toEqual({ status: 'ok' })
    // Each probe round reads the database once: 20 calls inside two seconds share at most two.
    expect(stack.standIns.planetscale.requests - before).toBeLessThanOrEqual(2)
  })

  it('is rate-limited like any anonymous caller', async () => {
    await awayFromWindowEdge()
    const ip = freshIp()
    const statuses: number[] = []
    for (let i = 0; i < 101; i++) statuses.push((await api('/health', { ip })).status)
    expect(statuses.slice(0, 100).every((s) => s === 200)).toBe(true)
    expect(statuses[100]).toBe(429)
  })
})

describe('replays are bounded', () => {
  it('a resume flood gets one replay a second; the rest are refused', async () => {
    const ada = await registerUser(stack, 'Ada')
    const roomId = await createRoom(stack, ada)
    for (let n = 1; n <= 5; n++) {
      await api(`/v1/rooms/${roomId}/messages`, {
        method: 'POST',
        token: ada.token,
        json: { clientMsgId: `r${n}`, body: `m${n}` },
      })
    }
    const raw = await rawSocket(stack, roomId, ada.token)
    await until('welcome', () => raw.frames.some((f) => f.type === 'welcome'))
    for (let i = 0; i < 20; i++) raw.ws.send(JSON.stringify({ type: 'resume', lastSeq: 0 }))
    await until('answers', () => raw.frames.filter((f) => f.type === 'error').length === 19)
    const replayed = raw.frames.filter((f) => f.type === 'message').map((f) => f.seq)
    expect(replayed).toEqual([1, 2, 3, 4, 5]) // once, not twenty times
    expect(new Set(raw.frames.filter((f) => f.type === 'error').map((f) => f.code))).toEqual(
      new Set(['rate_limited']),
    )
    raw.ws.close()
  })
})

describe('one user, many sockets', () => {
  it("shares one send budget across all of a user's sockets in a room", async () => {
    const mallory = await registerUser(stack, 'Mallory')
    const roomId = await createRoom(stack, mallory)
    const sockets = await Promise.all(
      Array.from({ length: 4 }, () => rawSocket(stack, roomId, mallory.token)),
    )
    for (const s of sockets)
      await until('welcome', () => s.frames.some((f) => f.type === 'welcome'))
    const started = Date.now()
    sockets.forEach((s, k) => {
      for (let i = 0; i < 40; i++) {
        s.ws.send(JSON.stringify({ type: 'send', clientMsgId: `s${k}-${i}`, body: 'spam' }))
      }
    })
    const answered = () =>
      sockets.reduce(
        (n, s) => n + s.frames.filter((f) => f.type === 'ack' || f.type === 'error').length,
        0,
      )
    await until('every send answered', () => answered() === 160)
    const seconds = (Date.now() - started) / 1000
    const acks = sockets.reduce((n, s) => n + s.frames.filter((f) => f.type === 'ack').length, 0)
    // One burst (40) and its refill (20/s) for the user, not four sockets' worth (160).
    expect(acks).toBeLessThanOrEqual(40 + Math.ceil(20 * seconds) + 1)
    const refused = sockets.flatMap((s) => s.frames.filter((f) => f.type === 'error'))
    expect(refused.length).toBe(160 - acks)
    expect(new Set(refused.map((f) => f.code))).toEqual(new Set(['rate_limited']))
    for (const s of sockets) s.ws.close()
  })

  it("closes a user's socket past the per-room cap with 4429", async () => {
    const ada = await registerUser(stack, 'Ada')
    const roomId = await createRoom(stack, ada)
    const open = []
    for (let i = 0; i < 10; i++) open.push(await rawSocket(stack, roomId, ada.token))
    for (const s of open) await until('welcome', () => s.frames.some((f) => f.type === 'welcome'))
    const extra = await rawSocket(stack, roomId, ada.token)
    expect(await extra.closed).toEqual({ code: 4429, reason: 'too many sockets for one user' })
    for (const s of open) s.ws.close()
  })
})

describe('listening needs a valid token', () => {
  it('a socket that only listens is closed with 4401 within seconds of its token expiring', async () => {
    const ada = await registerUser(stack, 'Ada')
    const roomId = await createRoom(stack, ada)
    const jwk = JSON.parse(stack.secrets.jwtSigningKey)
    const shortLived = await new SignJWT({ name: 'Ada' })
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid })
      .setSubject(ada.id)
      .setIssuer('plaza')
      .setAudience('plaza-api')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(await importJWK(jwk, 'EdDSA'))
    const listener = await rawSocket(stack, roomId, shortLived)
    await until('welcome', () => listener.frames.some((f) => f.type === 'welcome'))
    const expiresAt = (Math.floor(Date.now() / 1000) + 2) * 1000
    await until(
      'told its token expired',
      () => listener.frames.some((f) => f.type === 'error' && f.code === 'token_expired'),
      12_000,
    )
    // Within the room's expiry check grid (5 s) of the expiry, plus scheduling slack.
    expect(Date.now() - expiresAt).toBeLessThan(8_000)
    // Nothing sent after it reaches it.
    const after = await api(`/v1/rooms/${roomId}/messages`, {
      method: 'POST',
      token: ada.token,
      json: { clientMsgId: 'after-expiry', body: 'secret' },
    })
    expect(after.status).toBe(201)
    await new Promise((r) => setTimeout(r, 300))
    expect(listener.frames.some((f) => f.type === 'message')).toBe(false)
    expect((await listener.closed).code).toBe(4401)
  }, 30_000)
})

describe('numbering survives a room that lost its storage', () => {
  it('a room whose storage is empty continues above what MySQL holds, never numbering from 1 again', async () => {
    const db = await mysql.createConnection(databaseUrl('plaza_it'))
    const ada = await registerUser(stack, 'Ada')
    const roomId = await createRoom(stack, ada)
    const path = `/v1/rooms/${roomId}/messages`
    const post = (via: typeof api, n: number) =>
      via(path, { method: 'POST', token: ada.token, json: { clientMsgId: `s${n}`, body: `m${n}` } })
    for (let n = 1; n <= 3; n++) expect((await post(api, n)).status).toBe(201)
    const rows = async () =>
      (
        await db.query('SELECT seq, id FROM messages WHERE room_id = ? ORDER BY seq', [roomId])
      )[0] as Array<{
        seq: number
        id: string
      }>
    await until('the first three land', async () => (await rows()).length === 3)
    // A second edge: same database, same origin, its own (empty) Durable Object storage —
    // what a room sees after its storage is lost.
    const fresh = await startMiniflareEdge({ vars: stack.edgeVars })
    try {
      const there = apiClient(fresh.url, { ip: freshIp() })
      const sent = await post(there, 4)
      expect(sent.status).toBe(201)
      expect(sent.body).toMatchObject({ seq: 4 })
      await until('the fourth lands', async () => (await rows()).length === 4)
      const stored = await rows()
      expect(stored.map((r) => r.seq)).toEqual([1, 2, 3, 4])
      expect(new Set(stored.map((r) => r.id)).size).toBe(4)
      const history = await there(`${path}?after=0&limit=10`, { token: ada.token })
      expect(history.body.items.map((m: { body: string }) => m.body)).toEqual([
        'm1',
        'm2',
        'm3',
        'm4',
      ])
    } finally {
      await fresh.close()
      await db.end()
    }
  })
})
