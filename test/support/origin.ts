import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { generateSigningKey } from '../../dev/jwk'
import { signRequest } from '../../shared/internal/signature'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

import { freePort } from '../../dev/processes'

export { freePort }

export interface OriginProcess {
  url: string
  /** The primary's GET /metrics (the whole cluster). */
  metricsUrl: string
  child: ChildProcess
  logs: string[]
  stop(): Promise<number | null>
}

/**
 * Starts the real origin cluster (`origin/main.ts`) as `npm run origin` would, and waits for
 * /health; `run` starts another build of it (the built JS, from another directory).
 */
export async function startOrigin(
  env: Record<string, string>,
  run: { cwd: string; args: string[] } = {
    cwd: repoRoot,
    args: ['--import', 'tsx', 'origin/main.ts'],
  },
): Promise<OriginProcess> {
  const port = Number(env.ORIGIN_PORT) || (await freePort())
  const metricsPort = Number(env.METRICS_PORT) || (await freePort())
  const jwtSigningKey = env.JWT_SIGNING_KEY ?? (await generateSigningKey('test-key')).privateJwk
  const child = spawn(process.execPath, run.args, {
    cwd: run.cwd,
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      // Cheap password hashing keeps the suites fast; production uses the default cost.
      SCRYPT_COST: '1024',
      JWT_SIGNING_KEY: jwtSigningKey,
      ...env,
      ORIGIN_PORT: String(port),
      METRICS_PORT: String(metricsPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: string[] = []
  const collect = (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean))
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`origin exited with ${child.exitCode}:\n${logs.join('\n')}`)
    const listening = logs.filter((l) => l.includes('"msg":"worker listening"')).length
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    )
    // Every worker up, so connections spread over all of them from the first request.
    if (ok && listening >= (Number(env.ORIGIN_WORKERS) || 1)) break
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    child,
    logs,
    async stop() {
      if (child.exitCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const [code] = await once(child, 'exit')
      return code as number | null
    },
  }
}

/** A JSON POST to the origin as the edge sends it: signed with `secret` (or not, to test refusals). */
export async function postAsEdge(
  origin: OriginProcess,
  secret: string | null,
  path: string,
  payload: unknown,
): Promise<{ status: number; body: unknown }> {
  const body = JSON.stringify(payload)
  const headers = secret
    ? await signRequest(secret, {
        method: 'POST',
        pathWithQuery: path,
        userId: '',
        body: new TextEncoder().encode(body),
      })
    : {}
  const res = await fetch(`${origin.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  })
  return { status: res.status, body: await res.json() }
}
