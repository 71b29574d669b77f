import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../dev/processes'
import { ensureDebianPackage } from './debian'

/** Prometheus and promtool, from Debian's `prometheus` package. */
export function ensurePrometheus(): void {
  ensureDebianPackage('prometheus', ['prometheus', 'promtool'])
}

interface QueryAnswer {
  status: 'success' | 'error'
  error?: string
  data?: {
    resultType: string
    result: Array<{ metric: Record<string, string>; value: [number, string] }>
  }
}

/**
 * A real Prometheus for a test: Debian's binary, a temporary directory, a free port on
 * 127.0.0.1, scraping `targets` every `scrapeMs`, with Plaza's alert rules loaded.
 */
export async function startPrometheus(targets: string[], rules: string, scrapeMs = 500) {
  ensurePrometheus()
  const dir = mkdtempSync(join(tmpdir(), 'plaza-prometheus-'))
  const port = await freePort()
  writeFileSync(
    join(dir, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: `${scrapeMs}ms`, evaluation_interval: `${scrapeMs}ms` },
      rule_files: [rules],
      scrape_configs: [{ job_name: 'plaza-origin', static_configs: [{ targets }] }],
    }),
  )
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-4_000)
  })
  const url = `http://127.0.0.1:${port}`
  const api = async <T>(path: string): Promise<T> => (await fetch(`${url}${path}`)).json() as T
  const deadline = Date.now() + 30_000
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    )
    if (ready) break
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`prometheus did not start: ${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    /** An instant query, as Grafana's panels send them. */
    query: (expr: string) => api<QueryAnswer>(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    /** Every metric name Prometheus holds. */
    names: async () => (await api<{ data: string[] }>('/api/v1/label/__name__/values')).data,
    targetsUp: async () => {
      const t = await api<{ data: { activeTargets: Array<{ health: string }> } }>('/api/v1/targets')
      return t.data.activeTargets.length > 0 && t.data.activeTargets.every((x) => x.health === 'up')
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = once(child, 'exit')
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
