import WebSocket from 'ws'
import { Plaza, type RoomConnection, type RoomOptions } from '../../client/src/index'
import type { Stack } from '../../dev/stack'
import { PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../../shared/protocol'
import { apiClient, freshEmail, freshIp } from './api'

export interface TestUser {
  id: string
  name: string
  token: string
  refreshToken: string
}

/** Registers a user through the edge (a fresh IP each, so sign-up limits never bite). */
export async function registerUser(stack: Stack, name = 'Member'): Promise<TestUser> {
  const res = await apiClient(stack.urls.edge)('/v1/auth/register', {
    method: 'POST',
    ip: freshIp(),
    json: {
      email: freshEmail(name.toLowerCase()),
      password: 'correct horse battery',
      displayName: name,
    },
  })
  if (res.status !== 201) throw new Error(`register: ${res.status} ${JSON.stringify(res.body)}`)
  return {
    id: res.body.user.id,
    name,
    token: res.body.tokens.accessToken,
    refreshToken: res.body.tokens.refreshToken,
  }
}

export async function createRoom(stack: Stack, owner: TestUser, isPrivate = false) {
  const res = await apiClient(stack.urls.edge)('/v1/rooms', {
    method: 'POST',
    token: owner.token,
    ip: freshIp(),
    json: { name: `room ${Date.now()}`, isPrivate },
  })
  if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.id as string
}

/** An SDK client for `user`, refreshing through the real refresh endpoint when asked. */
export function sdkFor(stack: Stack, user: TestUser, baseUrl = stack.urls.edge): Plaza {
  return new Plaza({
    baseUrl,
    WebSocket,
    getToken: async ({ refresh }) => {
      if (refresh) {
        const res = await apiClient(stack.urls.edge)('/v1/auth/refresh', {
          method: 'POST',
          ip: freshIp(),
          json: { refreshToken: user.refreshToken },
        })
        if (res.status !== 200) throw new Error(`refresh: ${res.status}`)
        user.token = res.body.accessToken
        user.refreshToken = res.body.refreshToken
      }
      return user.token
    },
  })
}

/** Resolves once `room` is open (welcome received). */
export function opened(room: RoomConnection, timeoutMs = 10_000): Promise<RoomConnection> {
  if (room.status === 'open') return Promise.resolve(room)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`room not open after ${timeoutMs} ms: ${room.status}`)),
      timeoutMs,
    )
    const off = room.on('status', (s) => {
      if (s === 'open') {
        clearTimeout(timer)
        off()
        resolve(room)
      }
    })
  })
}

export async function join(
  stack: Stack,
  user: TestUser,
  roomId: string,
  options: RoomOptions & { baseUrl?: string } = {},
) {
  return opened(sdkFor(stack, user, options.baseUrl).room(roomId, options))
}

export { roomStats } from '../../dev/room-stats'

/** A raw WebSocket to a room, as a hostile or broken client would open one. */
export function rawSocket(
  stack: Stack,
  roomId: string,
  token?: string,
  // biome-ignore lint/suspicious/noExplicitAny: frames are whatever the room sent.
): Promise<{ ws: WebSocket; frames: any[]; closed: Promise<{ code: number; reason: string }> }> {
  const url = `${stack.urls.edge.replace('http', 'ws')}/v1/rooms/${roomId}/ws`
  const ws = new WebSocket(url, token ? [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${token}`] : [PROTOCOL])
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  const frames: any[] = []
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  ws.on('message', (data) => {
    const parsed = JSON.parse(data.toString())
    frames.push(...(Array.isArray(parsed) ? parsed : [parsed]))
  })
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, closed }))
    ws.once('error', reject)
  })
}

/** Waits until `predicate` holds, polling; fails with `what` after `timeoutMs`. */
export async function until(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
