import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { buildWorker, startMiniflareEdge } from '../../dev/edge'
import { freePort } from '../../dev/processes'
import { rssAfterCollection } from '../inspector'
import type { BenchEdge } from '../rooms'
import { perSocketKb, workerdRss } from '../workerd'
import { startStandaloneFloor } from './standalone'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface FloorOptions {
  edge: BenchEdge
  sockets: number
  /** Sockets opening at a time. */
  opening: number
  idleSeconds: number
  clientOptions: WebSocket.ClientOptions
  /**
   * A frame to broadcast five times, a second apart, after the fill — as the fill bench
   * broadcasts five messages to Plaza's sockets. Without it the sockets carry only their welcome.
   */
  broadcast?: string
}

export interface FloorResult {
  fillSeconds: number
  /** workerd's resident memory per socket after the idle wait, KB. */
  idleKb: number
  /** The same after a full collection (the self-hosted tier: its inspector). */
  collectedKb?: number
}

/**
 * The runtime's floor (bench/hibernating): `sockets` sockets into an object that accepts
 * them on the hibernation API and does nothing else (but broadcast, if asked); workerd's
 * resident memory per socket after the same idle wait as Plaza's, and after a full collection.
 */
export async function minimalFloor(options: FloorOptions): Promise<FloorResult> {
  const { edge, sockets: total } = options
  const inspector = edge === 'workerd' ? await freePort() : undefined
  const outdir = join(root, '.dev', 'hibernating-build')
  const config = join(root, 'bench', 'hibernating', 'wrangler.toml')
  await buildWorker(config, outdir)
  const floor =
    edge === 'workerd'
      ? await startStandaloneFloor(join(outdir, 'worker.js'), config, inspector)
      : await startMiniflareEdge({
          vars: {},
          scriptPath: join(outdir, 'worker.js'),
          configPath: config,
        })
  const sockets: WebSocket[] = []
  try {
    const before = workerdRss()
    const url = `${floor.url.replace(/^http/, 'ws')}/ws`
    const started = performance.now()
    let next = 0
    const openOne = async (): Promise<void> => {
      if (next++ >= total) return
      await new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(url, options.clientOptions)
        ws.once('message', () => resolve())
        ws.once('error', reject)
        sockets.push(ws)
      })
      return openOne()
    }
    const what = options.broadcast ? ', five frames broadcast to them' : ''
    process.stdout.write(
      `  the runtime's floor: ${total} sockets into a minimal hibernating object${what}… `,
    )
    await Promise.all(Array.from({ length: options.opening }, openOne))
    const fillSeconds = Math.round((performance.now() - started) / 100) / 10
    if (options.broadcast) {
      // The same timeline as Plaza's five messages (bench/fill.ts).
      await sleep(3000)
      for (let m = 0; m < 5; m++) {
        await fetch(`${floor.url}/broadcast`, { method: 'POST', body: options.broadcast })
        await sleep(1000)
      }
      await sleep(2000)
    }
    await sleep(options.idleSeconds * 1000)
    const idleKb = perSocketKb(workerdRss(), before, total)
    const collected = inspector
      ? await rssAfterCollection(inspector, () => fetch(`${floor.url}/health`))
      : undefined
    const collectedKb = collected === undefined ? undefined : perSocketKb(collected, before, total)
    console.log(
      `${fillSeconds} s, ${idleKb} KB a socket after ${options.idleSeconds} s idle` +
        (collectedKb === undefined ? '' : `, ${collectedKb} KB after a full collection`),
    )
    return { fillSeconds, idleKb, collectedKb }
  } finally {
    for (const ws of sockets) ws.terminate()
    await ('close' in floor ? floor.close() : floor.stop())
  }
}
