import WebSocket from 'ws'
import { answerMark } from './marks'
import { quantile } from './workerd'

/**
 * The client side of the many-small-rooms benchmark, in a process of its own: every
 * room's members as raw WebSockets (the same harness for every system), the first member
 * of each room its sender. Sends at the asked total rate, spread evenly over the rooms;
 * every other member records each delivery's latency. Talks to the parent over IPC.
 *
 * A message body is `tag|room|n|sentAtMs|xxx…` (~100 bytes).
 */
type System = 'plaza' | 'socketio'
interface Member {
  url: string
  protocols?: string[]
}
interface Start {
  cmd: 'start'
  system: System
  rooms: Member[][]
}
interface Step {
  cmd: 'step'
  tag: string
  rate: number
  seconds: number
}

const now = () => performance.timeOrigin + performance.now()
const send = (msg: object) => process.send?.(msg)

let system: System = 'plaza'
const senders: WebSocket[] = []
const tally = { acked: 0, refused: 0, delivered: 0, lastAt: 0, latencies: [] as number[] }
let currentTag = ''

function onDelivery(data: string): void {
  let bodies: string[]
  if (system === 'socketio') {
    if (!data.startsWith('42')) return
    bodies = [JSON.parse(data.slice(2))[1] as string]
  } else {
    if (!data.includes('"type":"message"')) return
    const parsed = JSON.parse(data)
    const frames = Array.isArray(parsed) ? parsed : [parsed]
    bodies = frames.filter((f) => f.type === 'message').map((f) => f.body as string)
  }
  const at = now()
  for (const body of bodies) {
    const [tag, , , sentAt] = body.split('|')
    if (tag !== currentTag) continue
    tally.delivered++
    tally.lastAt = at
    tally.latencies.push(at - Number(sentAt))
  }
}

function onSenderFrame(data: string): void {
  if (system !== 'plaza') return
  if (data.startsWith('{"type":"ack"')) tally.acked++
  else if (data.startsWith('{"type":"error"')) {
    tally.refused++
    if (tally.refused <= 3) send({ event: 'error', message: data.slice(0, 200) })
  }
}

function open(member: Member, isSender: boolean): Promise<WebSocket> {
  const ws = new WebSocket(member.url, member.protocols ?? [], { perMessageDeflate: false })
  return new Promise((resolve, reject) => {
    ws.on('message', (raw) => {
      const data = raw.toString()
      if (system === 'plaza' && answerMark(ws, data)) return
      if (system === 'socketio') {
        if (data === '2') return ws.send('3')
        if (data.startsWith('0')) return ws.send('40')
        if (data.startsWith('40')) return resolve(ws)
      } else if (data.startsWith('{"type":"welcome"')) return resolve(ws)
      if (isSender) onSenderFrame(data)
      else onDelivery(data)
    })
    ws.on('error', reject)
  })
}

async function start(msg: Start): Promise<void> {
  system = msg.system
  let opened = 0
  // A few rooms at a time: a storm of thousands of handshakes at once only measures the kernel.
  for (let i = 0; i < msg.rooms.length; i += 25) {
    await Promise.all(
      msg.rooms.slice(i, i + 25).map(async (members) => {
        const sockets = await Promise.all(members.map((m, k) => open(m, k === 0)))
        senders.push(sockets[0]!)
        opened += sockets.length
      }),
    )
    if ((i / 25) % 4 === 0) send({ event: 'progress', opened })
  }
  send({ event: 'ready', opened })
}

function frameOf(tag: string, room: number, n: number): string {
  const body = `${tag}|${room}|${n}|${now().toFixed(3)}|`.padEnd(100, 'x')
  if (system === 'socketio') return `42${JSON.stringify(['msg', body])}`
  return JSON.stringify({ type: 'send', clientMsgId: `${tag}-${room}-${n}`, body })
}

async function step(msg: Step): Promise<void> {
  currentTag = msg.tag
  Object.assign(tally, { acked: 0, refused: 0, delivered: 0, lastAt: 0, latencies: [] })
  const cpuBefore = process.cpuUsage()
  const startedAt = now()
  let sent = 0
  let owed = 0
  let next = 0
  // A tick every 10 ms; the rate's share of each tick goes to the next rooms in turn.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (now() - startedAt >= msg.seconds * 1000) {
        clearInterval(timer)
        resolve()
        return
      }
      owed += msg.rate / 100
      for (; owed >= 1; owed--) {
        const room = next++ % senders.length
        senders[room]!.send(frameOf(msg.tag, room, sent++))
      }
    }, 10)
  })
  // Drained when deliveries stop growing for a second (30 s at most).
  for (let quiet = 0, last = -1, waited = 0; quiet < 4 && waited < 120; waited++) {
    await new Promise((r) => setTimeout(r, 250))
    quiet = tally.delivered === last ? quiet + 1 : 0
    last = tally.delivered
  }
  const cpu = process.cpuUsage(cpuBefore)
  const seconds = Math.max(0.001, (tally.lastAt - startedAt) / 1000)
  send({
    event: 'report',
    sent,
    acked: tally.acked,
    refused: tally.refused,
    delivered: tally.delivered,
    seconds,
    p50: quantile(tally.latencies, 0.5, 1),
    p99: quantile(tally.latencies, 0.99, 1),
    cpu: Math.round(((cpu.user + cpu.system) / 1e6 / seconds) * 100) / 100,
  })
}

process.on('message', (msg: Start | Step | { cmd: 'exit' }) => {
  if (msg.cmd === 'start')
    void start(msg).catch((e) => send({ event: 'error', message: String(e) }))
  else if (msg.cmd === 'step') void step(msg)
  else {
    for (const ws of senders) ws.terminate()
    process.exit(0)
  }
})
