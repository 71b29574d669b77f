import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Miniflare } from 'miniflare'
import { unstable_getMiniflareWorkerOptions } from 'wrangler'

const root = fileURLToPath(new URL('..', import.meta.url))
const wranglerBin = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
export const wranglerEnv = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' }

/** PLAZA_INSPECTOR_PORT=9229: attach Chrome DevTools (or a CPU profiler) to the edge's isolate. */
export function inspectorPort(): number | undefined {
  const port = process.env.PLAZA_INSPECTOR_PORT
  return port ? Number(port) : undefined
}

/**
 * Bundles the edge exactly as `wrangler deploy` would (dry run, nothing uploaded), so
 * tests and benchmarks run the deployable artifact rather than the sources.
 */
export async function buildEdge(outdir = join(root, '.dev', 'edge-build')): Promise<string> {
  await buildWorker(join(root, 'wrangler.toml'), outdir)
  return join(outdir, 'index.js')
}

/** Bundles any Worker of the repo by its wrangler.toml the same way (benchmarks' baselines). */
export async function buildWorker(configPath: string, outdir: string): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [wranglerBin, 'deploy', '--dry-run', '--config', configPath, '--outdir', outdir],
    { cwd: root, env: { ...process.env, ...wranglerEnv } },
  )
}

export interface MiniflareEdge {
  url: string
  mf: Miniflare
  /** The edge's last log lines (its JSON lines, request ids and all), newest last. */
  logs: string[]
  close(): Promise<void>
}

/** How many of the edge's log lines a Miniflare edge keeps for tests to read. */
const KEPT_LOG_LINES = 20_000

/**
 * Runs the built edge in workerd through Miniflare's API, with wrangler.toml's bindings
 * (Durable Objects on SQLite included) and `vars` layered on top. Used where wrangler
 * dev's proxy would cost throughput or where a test needs several edge processes.
 */
export async function startMiniflareEdge(options: {
  vars: Record<string, string>
  port?: number
  scriptPath?: string
  persistTo?: string | false
  /** Another Worker's wrangler.toml (benchmarks' comparison Workers); the edge's by default. */
  configPath?: string
}): Promise<MiniflareEdge> {
  const scriptPath = options.scriptPath ?? (await buildEdge())
  const { workerOptions } = unstable_getMiniflareWorkerOptions(
    options.configPath ?? join(root, 'wrangler.toml'),
  )
  const logs: string[] = []
  const mf = new Miniflare({
    ...workerOptions,
    // Kept for tests; warnings and errors shown as before, one `request` line per request
    // only with PLAZA_EDGE_LOGS=1 (a benchmark makes millions).
    handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
      logs.push(message)
      if (logs.length > KEPT_LOG_LINES) logs.splice(0, logs.length - KEPT_LOG_LINES)
      if (level === 'warn' || level === 'error') process.stderr.write(`${message}\n`)
      else if (process.env.PLAZA_EDGE_LOGS === '1') process.stdout.write(`${message}\n`)
    },
    modules: true,
    scriptPath,
    bindings: { ...(workerOptions.bindings ?? {}), ...options.vars },
    host: '127.0.0.1',
    port: options.port ?? 0,
    cf: false,
    durableObjectsPersist: options.persistTo ?? false,
    ...(inspectorPort() ? { inspectorPort: inspectorPort() } : {}),
  } as ConstructorParameters<typeof Miniflare>[0])
  const url = (await mf.ready).toString().replace(/\/$/, '')
  return { url, mf, logs, close: () => mf.dispose() }
}
