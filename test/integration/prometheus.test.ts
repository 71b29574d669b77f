import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Stack } from '../../dev/stack'
import { apiClient, freshEmail, freshIp } from '../support/api'
import { startPrometheus } from '../support/prometheus'
import { privateRedis } from '../support/redis-server'
import { until } from '../support/rooms'
import { startTestStack } from '../support/stack'

// A real Prometheus (Debian's binary) scraping the stack's origin every 500 ms, with the
// alert rules loaded; then every query of the Grafana dashboard run against it. A private
// Redis, so the edge's and the rooms' counters are this suite's alone.
const deploy = (path: string) => fileURLToPath(new URL(`../../deploy/${path}`, import.meta.url))
let stack: Stack
let redis: Awaited<ReturnType<typeof privateRedis>>
let prometheus: Awaited<ReturnType<typeof startPrometheus>>

beforeAll(async () => {
  redis = await privateRedis()
  stack = await startTestStack({ redisUrl: redis.url, originWorkers: 2 })
  prometheus = await startPrometheus(
    [new URL(stack.urls.metrics).host],
    deploy('prometheus/alerts.yml'),
  )
}, 120_000)

afterAll(async () => {
  await prometheus?.stop()
  await stack?.stop()
  await redis?.stop()
})

/** One number from an instant query (NaN when it has no sample). */
async function value(expr: string): Promise<number> {
  const answer = await prometheus.query(expr)
  if (answer.status !== 'success') throw new Error(`${expr}: ${answer.error}`)
  return Number(answer.data?.result[0]?.value[1] ?? Number.NaN)
}

/** The metric names a PromQL expression reads (label matchers, groupings and ranges removed). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
  const words = [...bare.matchAll(/[a-zA-Z_:][\w:]*(?![\w:]|\s*\()/g)].map((m) => m[0])
  return words.filter((w) => !['and', 'or', 'unless', 'bool', 'offset'].includes(w))
}

describe('a real Prometheus scraping the stack', () => {
  it('sees N origin requests summed over the workers and the edge hit ratio the requests saw', async () => {
    await until('the target up', () => prometheus.targetsUp(), 20_000)
    const api = apiClient(stack.urls.edge, { ip: freshIp() })
    const users = []
    for (let i = 0; i < 3; i++) {
      const reg = await api('/v1/auth/register', {
        method: 'POST',
        json: { email: freshEmail(), password: 'correct horse battery', displayName: `P${i}` },
      })
      expect(reg.status).toBe(201)
      users.push(reg.body as { user: { id: string }; tokens: { accessToken: string } })
    }
    const seen = { HIT: 0, MISS: 0 }
    const read = async (id: string) => {
      const cache = (await api(`/v1/profiles/${id}`)).headers.get('x-cache') as 'HIT' | 'MISS'
      seen[cache] += 1
    }
    for (const u of users) await read(u.user.id)
    for (let i = 0; i < 7; i++) await read(users[0]!.user.id)
    expect(seen).toEqual({ MISS: 3, HIT: 7 })

    const before = (await value('sum(http_requests_total{route="/v1/me"})')) || 0
    const n = 12
    const token = users[1]!.tokens.accessToken
    // Each carries the counts of the request before it to Redis (the first: the last read's).
    for (let i = 0; i < n; i++) expect((await api('/v1/me', { token })).status).toBe(200)

    await until(
      'Prometheus to have scraped the N requests',
      async () => (await value('sum(http_requests_total{route="/v1/me"})')) === before + n,
      20_000,
    )
    await new Promise((r) => setTimeout(r, 1_500))
    expect(await value('sum(http_requests_total{route="/v1/me"})')).toBe(before + n)
    expect(await value('sum(http_requests_total{route="/v1/auth/register",status="201"})')).toBe(3)
    const ratio =
      'sum(plaza_edge_cache_reads_total{status="HIT"}) / sum(plaza_edge_cache_reads_total{status=~"HIT|MISS"})'
    await until('the hit ratio', async () => (await value(ratio)) === seen.HIT / 10, 20_000)
    expect(await value('sum(plaza_edge_cache_reads_total{status="MISS"})')).toBe(3)
    expect(await value('up{job="plaza-origin"}')).toBe(1)
    // The rules load and evaluate against the real series (an error would show here).
    const rules = (await (await fetch(`${prometheus.url}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ rules: Array<{ health: string; name: string }> }> }
    }
    const all = rules.data.groups.flatMap((g) => g.rules)
    expect(all.length).toBe(12)
    expect(all.filter((r) => r.health !== 'ok')).toEqual([])
  })

  it('runs every query of the Grafana dashboard without an error, on metrics that exist', async () => {
    const dashboard = JSON.parse(readFileSync(deploy('grafana/plaza.json'), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>
    }
    const names = new Set(await prometheus.names())
    // The check can fail: a name nobody exports is not among them.
    expect(metricNames('sum(rate(plaza_no_such_metric_total{a="b"}[5m]))')).toEqual([
      'plaza_no_such_metric_total',
    ])
    expect(names.has('plaza_no_such_metric_total')).toBe(false)
    const problems: string[] = []
    let queries = 0
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        queries += 1
        const answer = await prometheus.query(expr.replaceAll('$__rate_interval', '5s'))
        if (answer.status !== 'success') problems.push(`${panel.title}: ${answer.error}`)
        for (const name of metricNames(expr)) {
          if (!names.has(name)) problems.push(`${panel.title}: no metric ${name}`)
        }
      }
    }
    expect(problems).toEqual([])
    expect(queries).toBeGreaterThanOrEqual(20)
  })
})
