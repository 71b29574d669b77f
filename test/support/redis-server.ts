import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { freePort } from './origin'

/**
 * A private redis-server for tests that stop and restart Redis, so the machine's shared
 * Redis (and every other suite using it) is never disturbed.
 */
export async function privateRedis() {
  const port = await freePort()
  let child: ChildProcess | null = null
  const url = `redis://127.0.0.1:${port}`
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    )
    const probe = new Redis(url, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    })
    probe.on('error', () => {})
    for (let i = 0; i < 100; i++) {
      if (
        await probe.connect().then(
          () => true,
          () => false,
        )
      )
        break
      await new Promise((r) => setTimeout(r, 50))
    }
    probe.disconnect()
  }
  const stop = async () => {
    if (!child || child.exitCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  }
  await start()
  return { url, start, stop }
}
