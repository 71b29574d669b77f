import { mkdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { unstable_getMiniflareWorkerOptions } from 'wrangler'
import { buildEdge, inspectorPort } from './edge'
import { type ManagedProcess, spawnManaged } from './processes'
import { buildWeb } from './web'

const root = fileURLToPath(new URL('..', import.meta.url))
export const workerdBin = join(root, 'node_modules', 'workerd', 'bin', 'workerd')

/** A Worker's compatibility date and flags from its wrangler.toml: one source for every tier. */
export function compatibilityOf(configPath: string): { date: string; flags: string[] } {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath)
  return {
    date: workerOptions.compatibilityDate ?? '2026-04-20',
    flags: workerOptions.compatibilityFlags ?? [],
  }
}

/** A string as a Cap'n Proto text literal. */
const text = (s: string) => JSON.stringify(s)

/**
 * The workerd config of the self-hosted edge: the same bundle `wrangler deploy` uploads,
 * its Room and Relay classes as SQLite-backed Durable Objects stored on local disk under
 * `storageDir`, the web page served from web/dist through a small asset worker (a disk
 * service lists directories; the page wants `/` to be index.html), outbound HTTP allowed to
 * private addresses (the origin and the stand-ins live on this machine or its network).
 */
export function workerdConfig(options: {
  bundle: string
  assetsDir: string
  storageDir: string
  port: number
  vars: Record<string, string>
}): string {
  const bindings = [
    // Read from workerd's environment at start: no secret is written into the config file.
    ...Object.keys(options.vars).map(
      (name) => `(name = ${text(name)}, fromEnvironment = ${text(name)})`,
    ),
    '(name = "ROOMS", durableObjectNamespace = "Room")',
    '(name = "RELAYS", durableObjectNamespace = "Relay")',
    '(name = "LIVE", durableObjectNamespace = "LiveDashboard")',
    '(name = "ASSETS", service = "assets")',
  ]
  const edgeCompatibility = compatibilityOf(join(root, 'wrangler.toml'))
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    (name = "assets", worker = .assets),
    (name = "assets-files", disk = (path = ${text(options.assetsDir)})),
    (name = "do-storage", disk = (path = ${text(options.storageDir)}, writable = true)),
    (name = "internet", network = (allow = ["public", "private", "local"], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [(name = "http", address = ${text(`127.0.0.1:${options.port}`)}, http = (), service = "edge")],
);

const edge :Workerd.Worker = (
  modules = [(name = "index.js", esModule = embed ${text(options.bundle)})],
  compatibilityDate = ${text(edgeCompatibility.date)},
  compatibilityFlags = [${edgeCompatibility.flags.map(text).join(', ')}],
  bindings = [
    ${bindings.join(',\n    ')},
  ],
  durableObjectNamespaces = [
    (className = "Room", uniqueKey = "plaza-room", enableSql = true),
    (className = "Relay", uniqueKey = "plaza-relay", enableSql = true),
    (className = "LiveDashboard", uniqueKey = "plaza-live", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "do-storage"),
  globalOutbound = "internet",
);

const assets :Workerd.Worker = (
  modules = [(name = "assets.js", esModule = ${text(ASSET_WORKER)})],
  compatibilityDate = "2026-04-20",
  bindings = [(name = "FILES", service = "assets-files")],
);
`
}

/** GET a file of web/dist; `/` is index.html; anything else missing is a 404 (never a listing). */
const ASSET_WORKER = `export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    if (url.pathname === '/') url.pathname = '/index.html'
    if (url.pathname.endsWith('/')) return new Response('Not found', { status: 404 })
    const res = await env.FILES.fetch(url, { method: request.method })
    return res.status === 200 || res.status === 304 ? res : new Response('Not found', { status: 404 })
  },
}`

/** The edge's bundle and the page, built once for however many workerd processes run them. */
export interface EdgeBuild {
  bundle: string
  assetsDir: string
}

export async function buildForWorkerd(stateDir: string): Promise<EdgeBuild> {
  return { bundle: await buildEdge(join(stateDir, 'bundle')), assetsDir: buildWeb() }
}

/**
 * The edge without a Cloudflare account: builds the bundle and the page (unless `built`),
 * writes the config into `stateDir`, runs workerd (its own process group). Durable Objects
 * keep their SQLite files in `stateDir/do`, so a restart keeps every room's and relay's
 * storage. `inspector`: the inspector's port (default PLAZA_INSPECTOR_PORT).
 */
export async function startWorkerdEdge(options: {
  vars: Record<string, string>
  port: number
  stateDir: string
  echo?: boolean
  built?: EdgeBuild
  inspector?: number
}): Promise<ManagedProcess> {
  const { bundle, assetsDir } = options.built ?? (await buildForWorkerd(options.stateDir))
  const storageDir = join(options.stateDir, 'do')
  mkdirSync(storageDir, { recursive: true })
  const configPath = join(options.stateDir, 'edge.capnp')
  const config = workerdConfig({
    // Cap'n Proto embeds resolve relative to the config file (a leading / means its import path).
    bundle: relative(options.stateDir, bundle),
    assetsDir,
    storageDir,
    port: options.port,
    vars: options.vars,
  })
  writeFileSync(configPath, config)
  const port = options.inspector ?? inspectorPort()
  const inspector = port ? [`--inspector-addr=127.0.0.1:${port}`] : []
  return spawnManaged('workerd', workerdBin, ['serve', configPath, '--verbose', ...inspector], {
    cwd: options.stateDir,
    env: { ...process.env, ...options.vars },
    echo: options.echo,
  })
}
