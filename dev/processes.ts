import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'

export interface ManagedProcess {
  name: string
  child: ChildProcess
  logs: string[]
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>
  /** SIGKILL to the whole process group at once (fault tests); resolves when it has exited. */
  kill(): Promise<void>
  /** Every process group it stands for, when more than its own (the self-hosted edge's processes). */
  pids?: number[]
}

/**
 * Spawns a child in its own process group so that stopping it also stops what it spawned
 * (wrangler's workerd, the cluster's workers): nothing is left holding a port.
 */
export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; echo?: boolean },
): ManagedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: string[] = []
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue
      logs.push(line)
      if (logs.length > 5_000) logs.shift()
      if (options.echo) process.stdout.write(`[${name}] ${line}\n`)
    }
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  return {
    name,
    child,
    logs,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, signal)
        } catch {
          // already gone
        }
      }
      signalGroup('SIGTERM')
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs)
      const code = await exited
      clearTimeout(timer)
      // Anything the child left behind in its group goes too.
      signalGroup('SIGKILL')
      return code
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
      await exited
    },
  }
}

/**
 * Process groups a previous `npm run dev` or `selfhost` left running (its launcher was
 * killed with SIGKILL or the terminal closed): stop them so their ports are free again.
 * A launcher still alive is not a leftover: its stack is left alone (the port check then
 * says the ports are taken).
 */
export async function stopLeftovers(pidFile: string, log: (m: string) => void): Promise<void> {
  const { readFile, rm } = await import('node:fs/promises')
  let recorded: { launcher?: number; pids: number[] }
  try {
    const parsed = JSON.parse(await readFile(pidFile, 'utf8')) as number[] | typeof recorded
    recorded = Array.isArray(parsed) ? { pids: parsed } : parsed
  } catch {
    return
  }
  const { launcher } = recorded
  if (launcher && launcher !== process.pid) {
    const alive = await readFile(`/proc/${launcher}/cmdline`, 'utf8').catch(() => '')
    if (alive) return
  }
  for (const pid of recorded.pids) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (!/origin\/main\.ts|wrangler|workerd/.test(cmdline)) continue
    log(`stopping process group ${pid} left over from an earlier run`)
    try {
      process.kill(-pid, 'SIGTERM')
    } catch {
      continue
    }
    for (
      let i = 0;
      i < 100 && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100))
    }
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // stopped
    }
  }
  await rm(pidFile, { force: true })
}

export async function recordPids(pidFile: string, processes: ManagedProcess[]): Promise<void> {
  const { writeFile } = await import('node:fs/promises')
  const pids = processes.flatMap((p) => p.pids ?? [p.child.pid]).filter(Boolean)
  await writeFile(pidFile, JSON.stringify({ launcher: process.pid, pids }))
}

/** A TCP port free right now on 127.0.0.1. */
/**
 * The kernel's range for outgoing connections' source ports (Linux; its default elsewhere).
 * A port picked from it can become some connection's source port between the pick and the
 * bind — in a parallel test suite, often enough to fail a run with EADDRINUSE.
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
    if (low && high) return [low, high]
  } catch {
    // not Linux
  }
  return [32768, 60999]
}

/** Ports this process has handed out: two callers never get the same one before either binds. */
const handedOut = new Set<number>()
const LOWEST_PICKED = 20_000

/** Whether nothing listens on `port` at 127.0.0.1 right now. */
async function bindable(port: number): Promise<boolean> {
  const server = createServer()
  server.listen(port, '127.0.0.1')
  const free = await Promise.race([
    once(server, 'listening').then(() => true),
    once(server, 'error').then(() => false),
  ])
  if (free) {
    server.close()
    await once(server, 'close')
  }
  return free
}

/**
 * A port free at 127.0.0.1, for a part that will listen on it: picked below the ephemeral
 * range (so no outgoing connection takes it meanwhile), checked by binding, never one this
 * process handed out before.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange()
  const span = low - LOWEST_PICKED
  for (let attempt = 0; span > 0 && attempt < 100; attempt++) {
    const port = LOWEST_PICKED + Math.floor(Math.random() * span)
    if (handedOut.has(port)) continue
    handedOut.add(port)
    if (await bindable(port)) return port
  }
  throw new Error(`no free port found between ${LOWEST_PICKED} and ${low - 1}`)
}

/**
 * Fails, naming the port and what it is for, when one the stack must listen on is taken:
 * otherwise a Plaza left running would answer the new one's health checks and the stack
 * would look up while its own parts could not bind.
 */
export async function ensurePortsFree(ports: Record<string, number>): Promise<void> {
  for (const [part, port] of Object.entries(ports)) {
    const server = createServer()
    const taken = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(true))
      server.listen(port, '127.0.0.1', () => resolve(false))
    })
    if (!taken) {
      server.close()
      await once(server, 'close')
      continue
    }
    throw new Error(
      `port ${port} (${part}) is already in use on 127.0.0.1 — another Plaza (npm run dev or selfhost) ` +
        `or another program; stop it (e.g. \`ss -ltnp | grep :${port}\` shows which) or choose other ports ` +
        '(EDGE_PORT, ORIGIN_PORT, METRICS_PORT, UPSTASH_PORT, PLANETSCALE_PORT)',
    )
  }
}

/** Resolves once `url` answers at all; fails with the process's last log lines if it exits or stays silent. */
export async function waitFor(
  url: string,
  process: ManagedProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (process.child.exitCode !== null) {
      throw new Error(
        `${process.name} exited with code ${process.child.exitCode}:\n${process.logs.slice(-30).join('\n')}`,
      )
    }
    const answered = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      () => true,
      () => false,
    )
    if (answered) return
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(
    `${process.name} did not answer at ${url} within ${timeoutMs} ms:\n${process.logs.slice(-30).join('\n')}`,
  )
}
