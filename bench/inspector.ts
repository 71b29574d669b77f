import { setTimeout as sleep } from 'node:timers/promises'
import WebSocket from 'ws'
import { workerdRss } from './workerd'

/**
 * A full garbage collection in every isolate a workerd process serves, through its
 * inspector (`--inspector-addr`): what `gc()` is to a Node benchmark. workerd runs no
 * collection while nothing allocates, so a hibernated room's JavaScript objects (and the
 * native sockets' wrappers they keep alive) stay in memory until something does; reading
 * resident memory after a collection tells what is still live from what is garbage
 * nobody has swept yet. workerd runs the collection the next time the isolate is entered,
 * so `poke` sends a request that does (one that wakes no Durable Object) until it is done.
 * Returns the isolates' JavaScript heap in use before and after, bytes.
 */
export async function collectGarbage(
  port: number,
  poke: () => Promise<unknown>,
): Promise<{ before: number; after: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/json`, { signal: AbortSignal.timeout(5000) })
  const targets = (await res.json()) as Array<{ webSocketDebuggerUrl?: string }>
  const heap = { before: 0, after: 0 }
  for (const target of targets) {
    if (!target.webSocketDebuggerUrl) continue
    const session = await openSession(target.webSocketDebuggerUrl)
    try {
      // A first message is needed before workerd answers HeapProfiler calls on a session.
      heap.before += (await session.call<{ usedSize: number }>('Runtime.getHeapUsage')).usedSize
      const collected = session.call('HeapProfiler.collectGarbage').then(() => true)
      const poked = () =>
        poke()
          .then(
            () => sleep(250),
            () => sleep(250),
          )
          .then(() => false)
      while (!(await Promise.race([collected, poked()]))) {}
      heap.after += (await session.call<{ usedSize: number }>('Runtime.getHeapUsage')).usedSize
    } finally {
      session.close()
    }
  }
  return heap
}

interface Session {
  call<T = unknown>(method: string): Promise<T>
  close(): void
}

/** A DevTools protocol session: one call at a time, each failing after 30 s without an answer. */
async function openSession(url: string): Promise<Session> {
  const ws = new WebSocket(url)
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  let next = 0
  return {
    call: <T>(method: string) =>
      new Promise<T>((resolve, reject) => {
        const id = ++next
        const timer = setTimeout(() => {
          ws.off('message', onMessage)
          reject(new Error(`${method}: no answer from the inspector in 30 s`))
        }, 30_000)
        const onMessage = (data: WebSocket.RawData) => {
          const message = JSON.parse(String(data)) as { id?: number; result?: T }
          if (message.id !== id) return
          clearTimeout(timer)
          ws.off('message', onMessage)
          resolve(message.result as T)
        }
        ws.on('message', onMessage)
        ws.send(JSON.stringify({ id, method }))
      }),
    close: () => ws.close(),
  }
}

/**
 * workerd's resident memory (all its processes, bytes) after a full collection in every
 * isolate of the process behind `inspector`; logs the JavaScript heap before and after.
 */
export async function rssAfterCollection(
  inspector: number,
  poke: () => Promise<unknown>,
): Promise<number> {
  const heap = await collectGarbage(inspector, poke)
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10
  console.log(`  a full collection: the JavaScript heap ${mb(heap.before)} → ${mb(heap.after)} MB`)
  await sleep(2000)
  return workerdRss()
}
