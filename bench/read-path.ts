import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import mysql from 'mysql2/promise'
import { type Stack, startStack } from '../dev/stack'
import { SLIDING_WINDOW } from '../edge/ratelimit/sliding-window'
import { newId } from '../shared/ids'
import { signRequest } from '../shared/internal/signature'

/**
 * The read path, one run, one harness: cached GET /v1/profiles/:id through the edge (HIT
 * and MISS), the origin directly, a bare Hono Worker returning a constant, and the guides'
 * Express + ioredis + mysql2 cache-aside design. Throughput with 50 connections; then
 * unloaded latency (one request at a time) to isolate the edge's own work on a HIT.
 */
const root = fileURLToPath(new URL('..', import.meta.url))
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const duration = Number(process.env.BENCH_SECONDS ?? 10)
const probeCount = Number(process.env.BENCH_PROBES ?? 2000)

export interface Row {
  name: string
  reqPerSec: number
  p50: number
  p99: number
  failed: number
}

export async function load(name: string, options: autocannon.Options, expect = 200): Promise<Row> {
  process.stdout.write(`  ${name}… `)
  const r = await autocannon({ connections, duration, ...options })
  const other = Object.entries(r.statusCodeStats ?? {})
    .filter(([code]) => Number(code) !== expect)
    .reduce((n, [, s]) => n + (s.count ?? 0), 0)
  const row = {
    name,
    reqPerSec: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    failed: r.errors + r.timeouts + other,
  }
  console.log(`${row.reqPerSec} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.failed} failed`)
  return row
}

/** Median and p99 of each sender over `count` rounds; a round calls every sender once, in turn. */
async function probe(
  count: number,
  senders: Record<string, () => Promise<unknown>>,
): Promise<Record<string, { p50: number; p99: number }>> {
  const entries = Object.entries(senders)
  for (let i = 0; i < 50; i++) for (const [, send] of entries) await send()
  const times = new Map<string, number[]>(entries.map(([name]) => [name, []]))
  for (let i = 0; i < count; i++) {
    for (const [name, send] of entries) {
      const t = performance.now()
      await send()
      times.get(name)!.push(performance.now() - t)
    }
  }
  const result: Record<string, { p50: number; p99: number }> = {}
  for (const [name, list] of times) {
    list.sort((x, y) => x - y)
    const at = (q: number) =>
      Math.round((list[Math.floor(q * (list.length - 1))] ?? 0) * 1000) / 1000
    result[name] = { p50: at(0.5), p99: at(0.99) }
  }
  return result
}

export async function seedProfiles(databaseUrl: string, count: number): Promise<string[]> {
  const db = await mysql.createConnection({ uri: databaseUrl })
  const ids: string[] = []
  const now = new Date()
  for (let done = 0; done < count; done += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - done) }, () => newId())
    ids.push(...batch)
    await db.query('INSERT INTO users (id, email, password_hash, created_at) VALUES ?', [
      batch.map((id) => [id, `${id.toLowerCase()}@bench.test`, 'x', now]),
    ])
    await db.query(
      'INSERT INTO profiles (user_id, display_name, bio, created_at, updated_at) VALUES ?',
      [batch.map((id) => [id, 'Bench User', 'x'.repeat(200), now, now])],
    )
  }
  await db.end()
  return ids
}

async function startBare(): Promise<{ url: string; close: () => Promise<void> }> {
  const outdir = join(root, '.dev', 'bare-build')
  const { buildWorker, startMiniflareEdge } = await import('../dev/edge')
  await buildWorker(join(root, 'bench', 'bare', 'wrangler.toml'), outdir)
  // Through the same Miniflare options wrangler derives for the edge (static assets included).
  const bare = await startMiniflareEdge({
    vars: {},
    scriptPath: join(outdir, 'worker.js'),
    configPath: join(root, 'bench', 'bare', 'wrangler.toml'),
  })
  const url = bare.url
  return { url, close: () => bare.close() }
}

export async function startExpress(databaseUrl: string, redisUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-express.ts'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
  return {
    url: (JSON.parse(line) as { url: string }).url,
    close: async () => {
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** The stack as the read benchmarks run it: a fresh database, 2 origin workers, the edge in Miniflare. */
export async function startReadStack(edgeVars: Record<string, string> = {}) {
  const databaseUrl = process.env.BENCH_DATABASE_URL || 'mysql://root@127.0.0.1:3306/plaza_bench'
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'
  const { resetDatabase } = await import('../dev/database')
  await resetDatabase(databaseUrl)
  const stack: Stack = await startStack({
    edge: 'miniflare',
    databaseUrl,
    redisUrl,
    originWorkers: 2,
    standInsInOwnProcess: true,
    edgeVars,
  })
  return { stack, databaseUrl, redisUrl }
}

export async function benchReadPath(): Promise<{
  rows: Row[]
  latency: Record<string, { p50: number; p99: number }>
}> {
  // The limiter still runs (and costs its round trip) but never refuses the benchmark.
  const { stack, databaseUrl, redisUrl } = await startReadStack({
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000000000',
  })
  const bare = await startBare()
  const baseline = await startExpress(databaseUrl, redisUrl)
  const rows: Row[] = []
  const latency: Record<string, { p50: number; p99: number }> = {}
  try {
    console.log(`  seeding ${40_000} profiles…`)
    const ids = await seedProfiles(databaseUrl, 40_000)
    const hot = ids[0]!
    await fetch(`${stack.urls.edge}/v1/profiles/${hot}`)
    await fetch(`${baseline.url}/v1/profiles/${hot}`)
    let missCursor = 1
    let baselineCursor = 20_001
    const path = (id: string) => `/v1/profiles/${id}`

    // Unloaded latency first, on a quiet machine, interleaved: each round sends one bare
    // request, one HIT and one bare Upstash round trip, so drift hits all three alike and
    // the difference of medians is the edge's own work.
    const { Redis } = await import('@upstash/redis')
    const upstash = new Redis({ url: stack.urls.upstash, token: stack.secrets.upstashToken })
    const sha = await upstash.scriptLoad(SLIDING_WINDOW)
    console.log(`  unloaded latency, ${probeCount} interleaved rounds…`)
    Object.assign(
      latency,
      await probe(probeCount, {
        'bare Worker': () => fetch(`${bare.url}${path(hot)}`).then((r) => r.arrayBuffer()),
        'edge HIT': () => fetch(`${stack.urls.edge}${path(hot)}`).then((r) => r.arrayBuffer()),
        // The HIT's one round trip, as the edge makes it: the rate-limit script and the two GETs.
        'Upstash pipeline EVALSHA+GET+GET': () =>
          upstash
            .pipeline()
            .evalsha(sha, ['bench:rl:probe:1', 'bench:rl:probe:0'], [1e9, Date.now(), 60_000])
            .get('plaza:v1:gen:x')
            .get('plaza:v1:profile:x')
            .exec(),
      }),
    )
    for (const [name, l] of Object.entries(latency))
      console.log(`    ${name}: p50 ${l.p50} ms, p99 ${l.p99} ms`)

    rows.push(await load('bare Hono Worker (constant)', { url: `${bare.url}${path(hot)}` }))
    rows.push(await load('edge HIT', { url: `${stack.urls.edge}${path(hot)}` }))
    rows.push(
      await load('edge MISS (every request a new profile)', {
        url: stack.urls.edge,
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => ({ ...req, path: path(ids[missCursor++ % 20_000] ?? hot) }),
          },
        ],
      }),
    )
    // Signed just before its step: the origin accepts a signature for ±30 s; the step lasts 10.
    const signed = await signRequest(stack.secrets.edgeSigningSecret, {
      method: 'GET',
      pathWithQuery: path(hot),
      userId: '',
      body: new Uint8Array(),
    })
    rows.push(
      await load('origin directly (signed, MySQL every time)', {
        url: `${stack.urls.origin}${path(hot)}`,
        headers: signed,
      }),
    )
    rows.push(await load('Express + ioredis + mysql2, HIT', { url: `${baseline.url}${path(hot)}` }))
    rows.push(
      await load('Express + ioredis + mysql2, MISS', {
        url: baseline.url,
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => ({ ...req, path: path(ids[baselineCursor++] ?? hot) }),
          },
        ],
      }),
    )
  } finally {
    await baseline.close()
    await bare.close()
    await stack.stop()
  }
  return { rows, latency }
}
