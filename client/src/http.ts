import type { z } from 'zod'
import type {
  CreateRoomBody,
  HistoryQuery,
  LoginBody,
  Me,
  Membership,
  Presence,
  Profile,
  ProfilePage,
  ProfilePatch,
  RegisterBody,
  Room,
  RoomPage,
  Session,
  Tokens,
} from '../../shared/api'
import type { MessagePage } from '../../shared/message'
import type { Ack } from '../../shared/protocol'
import { errorFromBody } from './errors'
import { newClientMsgId } from './ids'
import { RoomConnection, type RoomOptions } from './room-connection'

export interface PlazaOptions {
  /** The edge, e.g. `https://api.example.com` or `http://127.0.0.1:8787`. */
  baseUrl: string
  /**
   * The current access token; with `refresh: true`, a new one (the server said 401, or a
   * room closed with 4401). Plaza never stores tokens: your app owns sign-in and refresh.
   */
  getToken: (options: { refresh: boolean }) => string | Promise<string>
  /** A WebSocket class where there is no global one (Node < 22: `import WebSocket from 'ws'`). */
  WebSocket?: unknown
  fetch?: typeof fetch
}

type RequestInit = { method?: string; json?: unknown; auth?: boolean }

/** `?a=1&b=2` of the defined values; plain string work (React Native lacks URLSearchParams). */
function query(q: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(q)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
  return parts.length ? `?${parts.join('&')}` : ''
}

const id = (value: string) => encodeURIComponent(value)

/** The client: typed calls to the edge's API, and room connections. */
export class Plaza {
  constructor(readonly options: PlazaOptions) {}

  url(path: string): string {
    return `${this.options.baseUrl.replace(/\/+$/, '')}${path}`
  }

  /**
   * A JSON request to the edge. With `auth` (the default) it carries the access token and,
   * on a 401, asks for a fresh one and tries once more. Errors are `PlazaError`s.
   */
  async request<T>(path: string, init: RequestInit = {}): Promise<T> {
    const doFetch = this.options.fetch ?? fetch
    const auth = init.auth ?? true
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {}
      if (auth)
        headers.authorization = `Bearer ${await this.options.getToken({ refresh: attempt > 0 })}`
      if (init.json !== undefined) headers['content-type'] = 'application/json'
      const res = await doFetch(this.url(path), {
        method: init.method ?? 'GET',
        headers,
        body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
      })
      if (res.status === 401 && auth && attempt === 0) continue
      const text = await res.text()
      let body: unknown = null
      try {
        body = text ? JSON.parse(text) : null
      } catch {
        // not JSON: reported as the status below
      }
      if (!res.ok) throw errorFromBody(body, res.status)
      return body as T
    }
  }

  /** Sign-up, sign-in, refresh and sign-out: no access token needed. */
  readonly auth = {
    register: (body: z.input<typeof RegisterBody>) =>
      this.request<Session>('/v1/auth/register', { method: 'POST', json: body, auth: false }),
    login: (body: z.input<typeof LoginBody>) =>
      this.request<Session>('/v1/auth/login', { method: 'POST', json: body, auth: false }),
    refresh: (refreshToken: string) =>
      this.request<Tokens>('/v1/auth/refresh', {
        method: 'POST',
        json: { refreshToken },
        auth: false,
      }),
    logout: (refreshToken: string) =>
      this.request<null>('/v1/auth/logout', {
        method: 'POST',
        json: { refreshToken },
        auth: false,
      }),
  }

  me(): Promise<Me> {
    return this.request('/v1/me')
  }

  readonly profiles = {
    list: (q: { cursor?: string; limit?: number } = {}) =>
      this.request<ProfilePage>(`/v1/profiles${query(q)}`),
    get: (userId: string) => this.request<Profile>(`/v1/profiles/${id(userId)}`),
    update: (userId: string, patch: z.input<typeof ProfilePatch>) =>
      this.request<Profile>(`/v1/profiles/${id(userId)}`, { method: 'PATCH', json: patch }),
  }

  readonly rooms = {
    list: (q: { cursor?: string; limit?: number } = {}) =>
      this.request<RoomPage>(`/v1/rooms${query(q)}`),
    get: (roomId: string) => this.request<Room>(`/v1/rooms/${id(roomId)}`),
    create: (body: z.input<typeof CreateRoomBody>) =>
      this.request<Room>('/v1/rooms', { method: 'POST', json: body }),
    /** Join a public room, or (as a private room's owner) add `userId`. */
    join: (roomId: string, userId?: string) =>
      this.request<Membership>(`/v1/rooms/${id(roomId)}/members`, {
        method: 'POST',
        json: userId ? { userId } : {},
      }),
    leave: (roomId: string) =>
      this.request<null>(`/v1/rooms/${id(roomId)}/members/me`, { method: 'DELETE' }),
    presence: (roomId: string) => this.request<Presence>(`/v1/rooms/${id(roomId)}/presence`),
    /** Sends over HTTP, with the same guarantees as a socket send. */
    post: (roomId: string, body: string, clientMsgId = newClientMsgId()) =>
      this.request<Ack>(`/v1/rooms/${id(roomId)}/messages`, {
        method: 'POST',
        json: { clientMsgId, body },
      }),
    read: (roomId: string, seq: number) =>
      this.request<null>(`/v1/rooms/${id(roomId)}/read`, { method: 'POST', json: { seq } }),
  }

  /** A page of a room's history, oldest first. */
  history(roomId: string, q: Partial<HistoryQuery> = {}): Promise<MessagePage> {
    return this.request(`/v1/rooms/${id(roomId)}/messages${query(q)}`)
  }

  /** Connects to a room; see RoomConnection. */
  room(roomId: string, options: RoomOptions = {}): RoomConnection {
    return new RoomConnection(this, roomId, options)
  }
}
