import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { applyMigrations, ensureReadOnlyUser, redact } from './database'
import type { MiniflareEdge } from './edge'
import type { RunningStandIn } from './http'
import { startPlanetScaleStandIn } from './planetscale'
import {
  ensurePortsFree,
  freePort,
  type ManagedProcess,
  recordPids,
  spawnManaged,
  stopLeftovers,
  waitFor,
} from './processes'
import { checkServices, devSecrets } from './services'
import { startUpstashStandIn } from './upstash'
import { buildWeb } from './web'

const root = fileURLToPath(new URL('..', import.meta.url))

export interface StackOptions {
  /**
   * `wrangler` for `npm run dev`; `miniflare` for tests and benchmarks (no dev proxy);
   * `workerd` for the self-hosted edge (`npm run selfhost`: the bundle under standalone workerd).
   */
  edge: 'wrangler' | 'miniflare' | 'workerd'
  databaseUrl: string
  redisUrl: string
  /** Where each part listens; any left out gets a free port (tests, benchmarks). */
  ports?: Partial<Record<'edge' | 'origin' | 'upstash' | 'planetscale' | 'metrics', number>>
  originWorkers?: number
  secretsPath?: string
  /** Run the stand-ins in a process of their own (benchmarks), not in this one (tests count their requests). */
  standInsInOwnProcess?: boolean
  /** Extra or overriding edge variables (tests shorten TTLs, for one). */
  edgeVars?: Record<string, string>
  /** Miniflare: keep the Durable Objects' storage here, so `restartEdge` keeps it; workerd: its state directory. */
  edgePersistTo?: string
  /** workerd: run the edge as this many processes, rooms split between them by id, behind nginx. */
  edgeProcesses?: number
  /** Print each part's output, prefixed with its name. */
  echo?: boolean
  onProgress?: (message: string) => void
}

export interface Stack {
  urls: { edge: string; origin: string; upstash: string; planetscale: string; metrics: string }
  /** The running origin cluster; replaced by `restartOrigin`. */
  origin: ManagedProcess
  /** Starts the origin again (after a test stopped or killed it) on the same port. */
  restartOrigin(): Promise<void>
  /** Miniflare and workerd: stops the edge, waits `downMs`, starts it again on the same port and storage. */
  restartEdge(downMs?: number): Promise<void>
  edge: ManagedProcess | MiniflareEdge
  /** The variables the edge runs with, so a test can start a second edge just like it. */
  edgeVars: Record<string, string>
  standIns: { upstash: RunningStandIn; planetscale: RunningStandIn }
  secrets: Awaited<ReturnType<typeof devSecrets>>
  stop(): Promise<void>
}

const edgeDbUser = 'plaza_edge'

/** Brings up every part of Plaza on this machine, in dependency order. */
export async function startStack(requested: StackOptions): Promise<Stack> {
  const ports = {
    edge: requested.ports?.edge ?? (await freePort()),
    origin: requested.ports?.origin ?? (await freePort()),
    upstash: requested.ports?.upstash ?? (await freePort()),
    planetscale: requested.ports?.planetscale ?? (await freePort()),
    metrics: requested.ports?.metrics ?? (await freePort()),
  }
  const options = { ...requested, ports }
  const progress = options.onProgress ?? (() => {})
  const cleanups: Array<() => Promise<unknown>> = []
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
  }
  const pidFile = join(root, '.dev', `stack-${options.ports.edge}.pids`)
  try {
    await stopLeftovers(pidFile, progress)
    await ensurePortsFree(ports)
    progress('checking MariaDB and Redis')
    await checkServices(options.databaseUrl, options.redisUrl)
    const secrets = await devSecrets(options.secretsPath ?? join(root, '.dev', 'secrets.json'))

    progress(`applying migrations to ${redact(options.databaseUrl)}`)
    await applyMigrations(options.databaseUrl)
    await ensureReadOnlyUser(options.databaseUrl, edgeDbUser, secrets.edgeDbPassword)

    progress('starting the Upstash and PlanetScale stand-ins')
    let upstash: RunningStandIn
    let planetscale: RunningStandIn
    if (options.standInsInOwnProcess) {
      const child = spawnManaged(
        'stand-ins',
        process.execPath,
        ['--import', 'tsx', 'dev/standins.ts'],
        {
          cwd: root,
          echo: options.echo,
          env: {
            ...process.env,
            REDIS_URL: options.redisUrl,
            UPSTASH_TOKEN: secrets.upstashToken,
            UPSTASH_PORT: String(options.ports.upstash),
            PLANETSCALE_PORT: String(options.ports.planetscale),
            PLANETSCALE_MYSQL_URL: options.databaseUrl,
          },
        },
      )
      cleanups.push(() => child.stop())
      const [line] = (await once(createInterface({ input: child.child.stdout! }), 'line')) as [
        string,
      ]
      const urls = JSON.parse(line) as { upstash: string; planetscale: string }
      const remote = (url: string): RunningStandIn => ({
        url,
        port: Number(new URL(url).port),
        requests: Number.NaN,
        close: () => child.stop().then(() => {}),
      })
      upstash = remote(urls.upstash)
      planetscale = remote(urls.planetscale)
    } else {
      upstash = await startUpstashStandIn({
        redisUrl: options.redisUrl,
        token: secrets.upstashToken,
        port: options.ports.upstash,
      })
      cleanups.push(() => upstash.close())
      planetscale = await startPlanetScaleStandIn({
        mysqlUrl: options.databaseUrl,
        port: options.ports.planetscale,
      })
      cleanups.push(() => planetscale.close())
    }

    progress('starting the origin cluster')
    const originUrl = `http://127.0.0.1:${options.ports.origin}`
    // Exports are kept per stack: a stack on a freshly reset database must not serve the last one's.
    let exportDir = process.env.EXPORT_CACHE_DIR
    if (!exportDir) {
      const made = await mkdtemp(join(tmpdir(), 'plaza-exports-'))
      cleanups.push(() => rm(made, { recursive: true, force: true }))
      exportDir = made
    }
    const spawnOrigin = async () => {
      const child = spawnManaged(
        'origin',
        process.execPath,
        ['--import', 'tsx', 'origin/main.ts'],
        {
          cwd: root,
          echo: options.echo,
          env: {
            ...process.env,
            DATABASE_URL: options.databaseUrl,
            REDIS_URL: options.redisUrl,
            EDGE_SIGNING_SECRET: secrets.edgeSigningSecret,
            JWT_SIGNING_KEY: secrets.jwtSigningKey,
            ORIGIN_PORT: String(options.ports.origin),
            METRICS_PORT: String(options.ports.metrics),
            ORIGIN_WORKERS: String(options.originWorkers ?? 0),
            EXPORT_CACHE_DIR: exportDir,
            EDGE_URL: `http://127.0.0.1:${options.ports.edge}`,
          },
        },
      )
      try {
        await waitFor(`${originUrl}/health`, child, 30_000)
      } catch (err) {
        await child.stop()
        throw err
      }
      return child
    }
    let origin = await spawnOrigin()
    cleanups.push(() => origin.stop())

    const vars = {
      ORIGIN_URL: originUrl,
      EDGE_SIGNING_SECRET: secrets.edgeSigningSecret,
      JWT_JWKS: secrets.jwtJwks,
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: secrets.upstashToken,
      DATABASE_READ_URL: planetscale.url.replace(
        'http://',
        `http://${edgeDbUser}:${secrets.edgeDbPassword}@`,
      ),
      CORS_ORIGINS: `http://127.0.0.1:${options.ports.edge},http://localhost:${options.ports.edge}`,
      ...options.edgeVars,
    }
    let edge: ManagedProcess | MiniflareEdge
    let restartEdge = async (_downMs: number): Promise<void> => {
      throw new Error('restartEdge needs the Miniflare edge')
    }
    let edgeUrl: string
    progress('building the web page (web/ → web/dist)')
    buildWeb()
    if (options.edge === 'wrangler') {
      progress('starting the edge with wrangler dev')
      // Secrets go through a private env file, not the command line, so `ps` never shows them.
      const envFile = join(root, '.dev', 'edge.env')
      await writeFile(
        envFile,
        Object.entries(vars)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(''),
        { mode: 0o600 },
      )
      const args = [
        join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'),
        'dev',
        '--env-file',
        envFile,
        '--ip',
        '127.0.0.1',
        '--port',
        String(options.ports.edge),
        '--show-interactive-dev-session=false',
        '--persist-to',
        join(root, '.dev', 'wrangler-state'),
      ]
      const managed = spawnManaged('edge', process.execPath, args, {
        cwd: root,
        echo: options.echo,
        env: {
          ...process.env,
          WRANGLER_SEND_METRICS: 'false',
          CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        },
      })
      cleanups.push(() => managed.stop())
      await recordPids(pidFile, [origin, managed])
      cleanups.push(() => rm(pidFile, { force: true }))
      edge = managed
      edgeUrl = `http://127.0.0.1:${options.ports.edge}`
      await waitFor(`${edgeUrl}/health`, managed, 60_000)
    } else if (options.edge === 'workerd') {
      progress('starting the edge under standalone workerd')
      const stateDir = options.edgePersistTo ?? join(root, '.dev', 'selfhost')
      const processes = options.edgeProcesses ?? 1
      const edgeOptions = { vars, port: options.ports.edge, stateDir, echo: options.echo }
      const { checkLayout, startWorkerdCluster } = await import('./selfhost-cluster')
      checkLayout(stateDir, processes)
      const startWorkerdEdge = async (o: typeof edgeOptions) =>
        processes > 1
          ? startWorkerdCluster({ ...o, processes })
          : (await import('./selfhost')).startWorkerdEdge(o)
      let workerd = await startWorkerdEdge(edgeOptions)
      cleanups.push(() => workerd.stop())
      // A launcher killed without cleaning up leaves these: the next start stops them.
      await recordPids(pidFile, [origin, workerd])
      cleanups.push(() => rm(pidFile, { force: true }))
      edgeUrl = `http://127.0.0.1:${options.ports.edge}`
      await waitFor(`${edgeUrl}/health`, workerd, 60_000)
      edge = workerd
      restartEdge = async (downMs) => {
        await workerd.stop()
        await new Promise((r) => setTimeout(r, downMs))
        workerd = await startWorkerdEdge(edgeOptions)
        edge = workerd
        await recordPids(pidFile, [origin, workerd])
        await waitFor(`${edgeUrl}/health`, workerd, 60_000)
      }
    } else {
      progress('starting the edge in Miniflare')
      // Loaded only here: importing wrangler installs signal handlers that exit the process.
      const { startMiniflareEdge } = await import('./edge')
      const edgeOptions = { vars, port: options.ports.edge, persistTo: options.edgePersistTo }
      let mf = await startMiniflareEdge(edgeOptions)
      cleanups.push(() => mf.close())
      edge = mf
      edgeUrl = mf.url
      restartEdge = async (downMs) => {
        await mf.close()
        await new Promise((r) => setTimeout(r, downMs))
        mf = await startMiniflareEdge(edgeOptions)
        edge = mf
      }
    }
    return {
      urls: {
        edge: edgeUrl,
        origin: originUrl,
        upstash: upstash.url,
        planetscale: planetscale.url,
        metrics: `http://127.0.0.1:${options.ports.metrics}/metrics`,
      },
      get origin() {
        return origin
      },
      get edge() {
        return edge
      },
      async restartOrigin() {
        await origin.stop()
        origin = await spawnOrigin()
      },
      restartEdge: (downMs = 0) => restartEdge(downMs),
      edgeVars: vars,
      standIns: { upstash, planetscale },
      secrets,
      stop,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** How many workerd processes the self-hosted edge runs, from `name`'s value: 1 (default) to 64, one a core being the sense of it. */
export function edgeProcessesFrom(
  value: string | undefined,
  name = 'PLAZA_EDGE_PROCESSES',
): number {
  const n = Number(value ?? 1)
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new Error(`${name} must be a whole number from 1 to 64, not ${value}`)
  return n
}

async function main(): Promise<void> {
  const started = Date.now()
  const env = process.env
  const ports = {
    edge: Number(env.EDGE_PORT ?? 8787),
    origin: Number(env.ORIGIN_PORT ?? 8788),
    upstash: Number(env.UPSTASH_PORT ?? 8079),
    planetscale: Number(env.PLANETSCALE_PORT ?? 8306),
    metrics: Number(env.METRICS_PORT ?? 9464),
  }
  const signals = ['SIGINT', 'SIGTERM'] as const
  const listenersBefore = new Map(signals.map((s) => [s, new Set(process.listeners(s))]))
  let stack: Stack
  try {
    stack = await startStack({
      // `npm run selfhost`: the edge under standalone workerd instead of wrangler dev.
      edge: env.PLAZA_EDGE === 'workerd' ? 'workerd' : 'wrangler',
      edgeProcesses: edgeProcessesFrom(env.PLAZA_EDGE_PROCESSES),
      edgePersistTo: env.PLAZA_SELFHOST_DIR || undefined,
      databaseUrl: env.DATABASE_URL || 'mysql://root@127.0.0.1:3306/plaza',
      redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
      ports,
      originWorkers: Number(env.ORIGIN_WORKERS ?? 0),
      echo: env.PLAZA_QUIET !== '1',
      onProgress: (m) => console.log(`plaza: ${m}…`),
    })
  } catch (err) {
    console.error(
      `\nplaza: could not start the stack.\n  ${(err as Error).message.replaceAll('\n', '\n  ')}`,
    )
    process.exit(1)
  }
  const health = await fetch(`${stack.urls.edge}/health`).then((r) => r.json())
  console.log(`
plaza: up in ${((Date.now() - started) / 1000).toFixed(1)} s
  chat in a browser     ${stack.urls.edge}/           (sign up in two windows and talk)
  live dashboard        ${stack.urls.edge}/dashboard  (admins: npm run admin:grant -- EMAIL)
  edge (the API)        ${stack.urls.edge}            try: curl ${stack.urls.edge}/health
  origin (internal)     ${stack.urls.origin}
  metrics (Prometheus)  ${stack.urls.metrics}
  Upstash stand-in      ${stack.urls.upstash}
  PlanetScale stand-in  ${stack.urls.planetscale}
  health: ${JSON.stringify(health)}
Ctrl-C stops everything.
`)
  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    console.log(`\nplaza: ${signal}: stopping edge, origin and stand-ins…`)
    await stack.stop()
    console.log('plaza: stopped.')
    process.exit(0)
  }
  // The launcher owns Ctrl-C: wrangler, loaded while the stack started (it reads
  // wrangler.toml for the self-hosted edge), installs handlers that exit at once, which left
  // the edge's processes running. Those go; what was there before stays (tsx's own handler,
  // which tells tsx's CLI the signal arrived: without it the CLI kills this process).
  for (const signal of signals) {
    for (const listener of process.listeners(signal))
      if (!listenersBefore.get(signal)?.has(listener)) process.removeListener(signal, listener)
    process.on(signal, () => void shutdown(signal))
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
