import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { freePort, type ManagedProcess, spawnManaged } from '../../dev/processes'
import { compatibilityOf, workerdBin } from '../../dev/selfhost'

/**
 * The minimal hibernating object under standalone workerd, laid out as the self-hosted
 * edge is (dev/selfhost.ts): the listening socket goes straight to the Worker, which hands
 * the WebSocket to one SQLite-backed object stored on local disk. Nothing in front of it.
 */
export async function startStandaloneFloor(
  bundle: string,
  configPath: string,
  /** The inspector's port (bench/inspector.ts), if wanted. */
  inspector?: number,
): Promise<{ url: string; stop(): Promise<void> }> {
  const compatibility = compatibilityOf(configPath)
  const dir = mkdtempSync(join(tmpdir(), 'plaza-floor-'))
  const port = await freePort()
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "floor", worker = .floor),
    (name = "do-storage", disk = (path = ${JSON.stringify(join(dir, 'do'))}, writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "floor")],
);
const floor :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed ${JSON.stringify(relative(dir, bundle))})],
  compatibilityDate = ${JSON.stringify(compatibility.date)},
  compatibilityFlags = [${compatibility.flags.map((f) => JSON.stringify(f)).join(', ')}],
  bindings = [(name = "ROOMS", durableObjectNamespace = "Minimal")],
  durableObjectNamespaces = [(className = "Minimal", uniqueKey = "plaza-floor", enableSql = true)],
  durableObjectStorage = (localDisk = "do-storage"),
);
`
  const capnp = join(dir, 'floor.capnp')
  writeFileSync(capnp, config)
  mkdirSync(join(dir, 'do'))
  const workerd: ManagedProcess = spawnManaged(
    'floor',
    workerdBin,
    ['serve', capnp, ...(inspector ? [`--inspector-addr=127.0.0.1:${inspector}`] : [])],
    {
      cwd: dir,
      env: process.env,
    },
  )
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    const up = await fetch(url, { signal: AbortSignal.timeout(500) }).then(
      () => true,
      () => false,
    )
    if (up) break
    if (i === 99) {
      await workerd.stop()
      throw new Error(`the floor's workerd did not start:\n${workerd.logs.join('\n')}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    stop: async () => {
      await workerd.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
