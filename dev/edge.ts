import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Miniflare } from 'miniflare'
import { unstable_getMiniflareWorkerOptions } from 'wrangler'

const root = fileURLToPath(new URL('..', import.meta.url))
const wranglerBin = join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
export const wranglerEnv = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' }

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
  close(): Promise<void>
}

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
  const mf = new Miniflare({
    ...workerOptions,
    modules: true,
    scriptPath,
    bindings: { ...(workerOptions.bindings ?? {}), ...options.vars },
    host: '127.0.0.1',
    port: options.port ?? 0,
    cf: false,
    durableObjectsPersist: options.persistTo ?? false,
    // PLAZA_INSPECTOR_PORT=9229: attach Chrome DevTools (or a CPU profiler) to the edge's isolate.
    ...(process.env.PLAZA_INSPECTOR_PORT
      ? { inspectorPort: Number(process.env.PLAZA_INSPECTOR_PORT) }
      : {}),
  } as ConstructorParameters<typeof Miniflare>[0])
  const url = (await mf.ready).toString().replace(/\/$/, '')
  return { url, mf, close: () => mf.dispose() }
}
