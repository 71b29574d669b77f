import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { Plaza } from '../../client/src/index'
import type { DashboardMetrics } from '../../shared/api/dashboard'
import type { Tiles, TilesFrame } from '../../shared/live'
import { closeCodes, PROTOCOL, TOKEN_PROTOCOL_PREFIX } from '../../shared/protocol'
import { $, readSession, type Session, writeSession } from './session'

/*
 * The live dashboard at /dashboard.html (admins): tiles, messages per hour and today's top
 * rooms and users. The chart's history comes once from GET /v1/dashboard/metrics; from
 * then on everything moves by the tiles the edge's channel pushes over a WebSocket (at
 * most once a second per tile) — no polling.
 */

// Shared with the chat page: signed in there, signed in here.
let session = readSession()
const save = (s: Session) => {
  session = s
  writeSession(s)
  $('whoami').textContent = `Signed in as ${s.displayName}`
}
const plaza = new Plaza({ baseUrl: location.origin, getToken: async () => session!.accessToken })

async function refresh(): Promise<void> {
  const tokens = await plaza.auth.refresh(session!.refreshToken)
  save({ ...session!, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken })
}

/** A GET with the session's token, refreshed once if it expired. */
async function get<T>(path: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${session!.accessToken}` } })
    if (res.status === 401 && attempt === 0) {
      await refresh()
      continue
    }
    const body = await res.json()
    if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`)
    return body as T
  }
}

// ---- the chart: messages per hour ---------------------------------------------------

let chart: uPlot | null = null
let hours: number[] = []
let counts: number[] = []

function drawChart(metrics: DashboardMetrics): void {
  hours = metrics.buckets.map((b) => Date.parse(b.start) / 1000)
  counts = metrics.buckets.map((b) => b.messages)
  const el = $('chart')
  chart = new uPlot(
    {
      width: Math.min(el.clientWidth || 800, 900),
      height: 220,
      series: [
        {},
        {
          label: 'Messages',
          fill: 'rgba(61, 90, 254, 0.25)',
          points: { show: false },
          stroke: '#3d5afe',
          paths: uPlot.paths.bars?.({ size: [0.8] }),
        },
      ],
      axes: [{}, { label: 'messages' }],
      legend: { show: false },
    },
    [hours, counts],
    el,
  )
}

function moveHour(current: NonNullable<Tiles['currentHour']>): void {
  const at = Date.parse(current.start) / 1000
  const i = hours.indexOf(at)
  if (i === -1) {
    hours = [...hours.slice(1), at]
    counts = [...counts.slice(1), current.messages]
  } else counts[i] = current.messages
  chart?.setData([hours, counts])
}

// ---- the tiles --------------------------------------------------------------------

function list(id: string, entries: NonNullable<Tiles['topRooms']>): void {
  const ol = $(id)
  ol.replaceChildren(
    ...entries.map((e) => {
      const li = document.createElement('li')
      li.dataset.id = e.id
      li.textContent = `#${e.rank} ${e.name || e.id} — ${e.messages}`
      return li
    }),
  )
}

function show(tiles: Tiles): void {
  if (tiles.messagesPerMinute !== undefined)
    $('tile-messages').textContent = String(tiles.messagesPerMinute)
  if (tiles.activeRooms !== undefined) $('tile-rooms').textContent = String(tiles.activeRooms)
  if (tiles.socketsOpen !== undefined) $('tile-sockets').textContent = String(tiles.socketsOpen)
  if (tiles.currentHour) moveHour(tiles.currentHour)
  if (tiles.topRooms) list('top-rooms', tiles.topRooms)
  if (tiles.topUsers) list('top-users', tiles.topUsers)
}

/** The channel: reconnects after a drop, with a fresh token when the old one expired. */
function subscribe(): void {
  const url = `${location.origin.replace(/^http/, 'ws')}/v1/dashboard/live`
  const ws = new WebSocket(url, [PROTOCOL, `${TOKEN_PROTOCOL_PREFIX}${session!.accessToken}`])
  ws.onopen = () => {
    $('live-status').textContent = 'live'
  }
  ws.onmessage = (event) => {
    const frame = JSON.parse(String(event.data)) as TilesFrame
    if (frame.type === 'tiles') show(frame.tiles)
  }
  ws.onclose = async (event) => {
    $('live-status').textContent = 'reconnecting'
    if (event.code === closeCodes.forbidden) {
      $('live-status').textContent = 'admins only'
      return
    }
    if (event.code === closeCodes.unauthorized) await refresh().catch(() => {})
    setTimeout(subscribe, 1_000)
  }
}

async function start(): Promise<void> {
  $('sign-in').hidden = true
  $('board').hidden = false
  $('whoami').textContent = `Signed in as ${session!.displayName}`
  try {
    drawChart(await get<DashboardMetrics>('/v1/dashboard/metrics?period=24h'))
    subscribe()
  } catch (err) {
    $('live-status').textContent = (err as Error).message
  }
}

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const data = Object.fromEntries(new FormData(event.target as HTMLFormElement)) as Record<
    string,
    string
  >
  $('sign-in-error').textContent = ''
  try {
    const res = await plaza.auth.login({ email: data.email ?? '', password: data.password ?? '' })
    save({
      userId: res.user.id,
      displayName: res.profile.displayName,
      accessToken: res.tokens.accessToken,
      refreshToken: res.tokens.refreshToken,
    })
    await start()
  } catch (err) {
    $('sign-in-error').textContent = (err as Error).message
  }
})

if (session) void start()
