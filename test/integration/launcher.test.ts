import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, stopLeftovers } from '../../dev/processes'
import { databaseUrl, redisUrl } from '../support/env'
import { until } from '../support/rooms'

const root = fileURLToPath(new URL('../..', import.meta.url))
let launcher: ChildProcess | undefined
let pidFile = ''
const state = mkdtempSync(join(tmpdir(), 'plaza-launcher-'))

afterAll(async () => {
  if (launcher?.exitCode === null) process.kill(-launcher.pid!, 'SIGKILL')
  // Whatever a failed run left behind (the launcher records its parts' process groups).
  if (pidFile) await stopLeftovers(pidFile, () => {})
  rmSync(state, { recursive: true, force: true })
})

const answers = (url: string) =>
  fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
    () => true,
    () => false,
  )

describe('the launcher (npm run selfhost)', () => {
  it('stops every part on Ctrl-C, the edge under standalone workerd included', async () => {
    const ports = {
      EDGE_PORT: await freePort(),
      ORIGIN_PORT: await freePort(),
      UPSTASH_PORT: await freePort(),
      PLANETSCALE_PORT: await freePort(),
      METRICS_PORT: await freePort(),
    }
    pidFile = join(root, '.dev', `stack-${ports.EDGE_PORT}.pids`)
    // As `npm run selfhost` runs it (tsx's CLI, which relays signals to its child), in a
    // process group of its own, so that Ctrl-C can reach the whole group as a terminal's does.
    launcher = spawn(join(root, 'node_modules', '.bin', 'tsx'), ['dev/stack.ts'], {
      detached: true,
      cwd: root,
      env: {
        ...process.env,
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        PLAZA_EDGE: 'workerd',
        PLAZA_SELFHOST_DIR: state,
        PLAZA_QUIET: '1',
        ORIGIN_WORKERS: '1',
        DATABASE_URL: databaseUrl('plaza_launcher'),
        REDIS_URL: redisUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    launcher.stdout?.on('data', (d) => {
      output += d
    })
    launcher.stderr?.on('data', (d) => {
      output += d
    })
    await until('the stack to be up', () => output.includes('Ctrl-C stops everything'), 90_000)
    const edge = `http://127.0.0.1:${ports.EDGE_PORT}/health`
    expect(await answers(edge)).toBe(true)
    process.kill(-launcher.pid!, 'SIGINT')
    const [code] = await once(launcher, 'exit')
    expect(output).toContain('plaza: stopped.')
    expect(code).toBe(0)
    // Nothing is left answering on the stack's ports.
    expect(await answers(edge)).toBe(false)
    expect(await answers(`http://127.0.0.1:${ports.ORIGIN_PORT}/health`)).toBe(false)
  }, 150_000)
})
