import {
  type MessageFrame,
  Plaza,
  type PresenceUser,
  type RoomConnection,
} from '../../client/src/index'
import { SYSTEM_AUTHOR, SYSTEM_NAME } from '../../shared/message'
import { $, readSession, type Session, writeSession } from './session'

/*
 * The demo page the edge serves at /: sign in, pick or create a room, chat, see who is
 * here and who is typing. Everything goes through the SDK, as an app would do it.
 */

const show = (id: 'auth' | 'lobby' | 'chat') => {
  for (const s of ['auth', 'lobby', 'chat']) $(s).hidden = s !== id
}

let session = readSession()
const save = (s: Session | null) => {
  session = s
  writeSession(s)
  $('whoami').textContent = s ? `Signed in as ${s.displayName}` : ''
  $('signout').hidden = !s
}

const plaza = new Plaza({
  baseUrl: location.origin,
  getToken: async ({ refresh }) => {
    if (!session) throw new Error('signed out')
    if (refresh) {
      const tokens = await plaza.auth.refresh(session.refreshToken)
      save({ ...session, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken })
    }
    return session!.accessToken
  },
})

// ---- sign in ------------------------------------------------------------------------

$('auth-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = event.target as HTMLFormElement
  const mode = ((event as SubmitEvent).submitter as HTMLButtonElement | null)?.value ?? 'login'
  const data = Object.fromEntries(new FormData(form)) as Record<string, string>
  $('auth-error').textContent = ''
  try {
    const credentials = { email: data.email ?? '', password: data.password ?? '' }
    const res =
      mode === 'register'
        ? await plaza.auth.register({
            ...credentials,
            displayName: data.displayName || (data.email?.split('@')[0] ?? ''),
          })
        : await plaza.auth.login(credentials)
    save({
      userId: res.user.id,
      displayName: res.profile.displayName,
      accessToken: res.tokens.accessToken,
      refreshToken: res.tokens.refreshToken,
    })
    route()
  } catch (err) {
    $('auth-error').textContent = (err as Error).message
  }
})

$('signout').addEventListener('click', async () => {
  const s = session
  leaveRoom()
  save(null)
  if (s) await plaza.auth.logout(s.refreshToken).catch(() => {})
  location.hash = ''
  route()
})

// ---- lobby --------------------------------------------------------------------------

async function showLobby() {
  show('lobby')
  $('lobby-error').textContent = ''
  const list = $('rooms')
  list.replaceChildren()
  try {
    const page = await plaza.rooms.list({ limit: 100 })
    for (const room of page.items) {
      const li = document.createElement('li')
      const a = document.createElement('a')
      a.textContent = room.name
      a.href = `#room=${room.id}`
      li.append(a)
      list.append(li)
    }
    if (!page.items.length)
      list.append(
        Object.assign(document.createElement('li'), { textContent: 'No rooms yet: create one.' }),
      )
  } catch (err) {
    $('lobby-error').textContent = (err as Error).message
  }
}

$('new-room').addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = event.target as HTMLFormElement
  const data = new FormData(form)
  try {
    const room = await plaza.rooms.create({
      name: String(data.get('name')),
      isPrivate: data.get('isPrivate') === 'on',
    })
    form.reset()
    location.hash = `room=${room.id}`
  } catch (err) {
    $('lobby-error').textContent = (err as Error).message
  }
})

// ---- chat ---------------------------------------------------------------------------

let room: RoomConnection | null = null
let lastRendered = 0
// What trusted backends publish (announcements, server publish) comes from the system author.
const names = new Map<string, string>([[SYSTEM_AUTHOR, SYSTEM_NAME]])
const typers = new Map<string, ReturnType<typeof setTimeout>>()

async function nameOf(userId: string): Promise<string> {
  const known = names.get(userId)
  if (known) return known
  try {
    const profile = await plaza.profiles.get(userId)
    names.set(userId, profile.displayName)
    return profile.displayName
  } catch {
    return 'someone'
  }
}

function render(m: { seq: number; author: string; body: string }) {
  if (m.seq <= lastRendered) return
  lastRendered = m.seq
  const li = document.createElement('li')
  li.dataset.seq = String(m.seq)
  const who = document.createElement('span')
  who.className = 'author'
  who.textContent = names.get(m.author) ?? '…'
  void nameOf(m.author).then((n) => {
    who.textContent = n
  })
  const text = document.createElement('span')
  text.className = 'body'
  text.textContent = m.body
  li.append(who, text)
  const list = $('messages')
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 20
  list.append(li)
  if (atBottom) list.scrollTop = list.scrollHeight
}

function renderPresence(users: PresenceUser[]) {
  for (const u of users) names.set(u.id, u.name)
  $('presence').replaceChildren(
    ...users.map((u) => Object.assign(document.createElement('li'), { textContent: u.name })),
  )
}

function renderTyping() {
  const who = [...typers.keys()].map((id) => names.get(id) ?? 'someone')
  $('typing').textContent = who.length
    ? `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`
    : ''
}

function leaveRoom() {
  room?.close()
  room = null
}

async function openRoom(roomId: string) {
  leaveRoom()
  show('chat')
  $('messages').replaceChildren()
  $('presence').replaceChildren()
  $('chat-error').textContent = ''
  $('typing').textContent = ''
  lastRendered = 0
  try {
    const info = await plaza.rooms.get(roomId)
    $('room-name').textContent = info.name + (info.isPrivate ? ' (private)' : '')
    // Join public rooms (a no-op when already a member); private ones are joined by their owner's invitation.
    if (!info.isPrivate) await plaza.rooms.join(roomId)
    const history = await plaza.history(roomId, { limit: 50 })
    for (const m of history.items) render(m)
  } catch (err) {
    $('chat-error').textContent = (err as Error).message
    return
  }
  const current = plaza.room(roomId, { lastSeq: lastRendered })
  room = current
  current.on('status', (s) => {
    $('status').textContent = s
    if (s === 'forbidden') $('chat-error').textContent = 'You are not a member of this room.'
  })
  current.on('presence', (p) => renderPresence(p.users))
  current.on('message', (m: MessageFrame) => {
    const timer = typers.get(m.author)
    if (timer) {
      clearTimeout(timer)
      typers.delete(m.author)
      renderTyping()
    }
    render(m)
    current.read(m.seq)
  })
  current.on('typing', (u) => {
    names.set(u.id, u.name)
    clearTimeout(typers.get(u.id))
    typers.set(
      u.id,
      setTimeout(() => {
        typers.delete(u.id)
        renderTyping()
      }, 3000),
    )
    renderTyping()
  })
  current.on('error', (e) => {
    $('chat-error').textContent = e.message
  })
}

let lastTyping = 0
$('composer').addEventListener('input', () => {
  if (Date.now() - lastTyping > 1500) {
    lastTyping = Date.now()
    room?.typing()
  }
})

$('composer').addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = event.target as HTMLFormElement
  const input = form.elements.namedItem('body') as HTMLInputElement
  const body = input.value.trim()
  if (!body || !room) return
  input.value = ''
  lastTyping = 0
  try {
    await room.send(body)
    $('chat-error').textContent = ''
  } catch (err) {
    $('chat-error').textContent = (err as Error).message
    input.value = body
  }
})

$('back').addEventListener('click', () => {
  location.hash = ''
})

// ---- routing ------------------------------------------------------------------------

function route() {
  save(session)
  if (!session) {
    leaveRoom()
    show('auth')
    return
  }
  const match = /^#room=([0-9A-Za-z]{26})$/.exec(location.hash)
  if (match?.[1]) void openRoom(match[1])
  else {
    leaveRoom()
    void showLobby()
  }
}

window.addEventListener('hashchange', route)
route()
