import WebSocket from 'ws'
import { answerMark } from './marks'

/**
 * The subscriber side of the fan-out benchmark, in a process of its own: N WebSockets to
 * one room, the same raw-WebSocket harness for every system. Every connection counts the
 * messages it gets (loss); every 20th also parses them for end-to-end latency and
 * per-publisher order. Talks to the parent over IPC.
 *
 * A message body is `step|publisher|n|sentAtMs|xxx…` (~100 bytes).
 */
type System = 'plaza' | 'socketio' | 'ws'
interface Start {
  cmd: 'start'
  system: System
  urls: string[]
  protocols?: string[]
  count: number
}

const now = () => performance.timeOrigin + performance.now()

interface StepStats {
  delivered: number
  latencies: number[]
  reordered: number
  lastAt: number
}
const steps = new Map<string, StepStats>()
const stepOf = (name: string) => {
  let s = steps.get(name)
  if (!s) {
    s = { delivered: 0, latencies: [], reordered: 0, lastAt: 0 }
    steps.set(name, s)
  }
  return s
}

function countMessages(system: System, data: string): number {
  if (system === 'ws') return 1
  if (system === 'socketio') return data.startsWith('42') ? 1 : 0
  // Plaza: one frame or an array of frames; count the message frames without parsing.
  let n = 0
  for (
    let i = data.indexOf('"type":"message"');
    i !== -1;
    i = data.indexOf('"type":"message"', i + 16)
  )
    n++
  return n
}

function bodiesOf(system: System, data: string): string[] {
  if (system === 'ws') return [data]
  if (system === 'socketio')
    return data.startsWith('42') ? [JSON.parse(data.slice(2))[1] as string] : []
  const parsed = JSON.parse(data)
  const frames = Array.isArray(parsed) ? parsed : [parsed]
  return frames.filter((f) => f.type === 'message').map((f) => f.body as string)
}

async function start(msg: Start) {
  const sockets: WebSocket[] = []
  let opened = 0
  const connectOne = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const url = msg.urls[i % msg.urls.length]!
      const ws = new WebSocket(url, msg.protocols ?? [], { perMessageDeflate: false })
      const measured = i % 20 === 0
      const last = new Map<string, number>()
      ws.on('message', (raw) => {
        const data = raw.toString()
        if (msg.system === 'plaza' && answerMark(ws, data)) return
        if (msg.system === 'socketio') {
          if (data === '2') return ws.send('3')
          if (data.startsWith('0')) return ws.send('40')
          if (data.startsWith('40')) return resolve()
        }
        if (msg.system === 'plaza' && data.startsWith('{"type":"welcome"')) return resolve()
        const n = countMessages(msg.system, data)
        if (!n) return
        const at = now()
        if (!measured) {
          // Count per step without parsing: the step is the body's first field.
          for (const body of cheapSteps(msg.system, data, n)) {
            const s = stepOf(body)
            s.delivered++
            s.lastAt = at
          }
          return
        }
        for (const body of bodiesOf(msg.system, data)) {
          const [step, publisher, seq, sentAt] = body.split('|')
          const s = stepOf(step!)
          s.delivered++
          s.lastAt = at
          s.latencies.push(at - Number(sentAt))
          const k = Number(seq)
          if (k <= (last.get(publisher!) ?? -1)) s.reordered++
          last.set(publisher!, k)
        }
      })
      ws.on('open', () => {
        opened++
        if (msg.system === 'ws') resolve()
      })
      ws.on('error', reject)
      sockets.push(ws)
    })
  for (let i = 0; i < msg.count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, msg.count - i) }, (_, k) => connectOne(i + k)),
    )
  }
  process.send?.({ event: 'ready', opened })
}

/** The step names of the n messages in a frame, read off the bodies with indexOf only. */
function cheapSteps(system: System, data: string, n: number): string[] {
  if (system !== 'plaza') {
    const at = system === 'ws' ? 0 : data.indexOf('"', data.indexOf(',')) + 1
    return [data.slice(at, data.indexOf('|', at))]
  }
  const out: string[] = []
  let from = 0
  for (let k = 0; k < n; k++) {
    const b = data.indexOf('"body":"', from) + 8
    out.push(data.slice(b, data.indexOf('|', b)))
    from = b
  }
  return out
}

process.on('message', (msg: Start | { cmd: 'report'; step: string } | { cmd: 'exit' }) => {
  if (msg.cmd === 'start')
    void start(msg).catch((err) => process.send?.({ event: 'error', message: String(err) }))
  else if (msg.cmd === 'report') {
    const s = stepOf(msg.step)
    const sorted = [...s.latencies].sort((a, b) => a - b)
    const at = (q: number) =>
      Math.round((sorted[Math.floor(q * (sorted.length - 1))] ?? 0) * 10) / 10
    process.send?.({
      event: 'report',
      step: msg.step,
      delivered: s.delivered,
      p50: at(0.5),
      p99: at(0.99),
      reordered: s.reordered,
      lastAt: s.lastAt,
      cpu: process.cpuUsage(),
    })
  } else if (msg.cmd === 'exit') process.exit(0)
})
