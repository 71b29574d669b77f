import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import { Redis } from 'ioredis'
import { ensureReadOnlyUser, resetDatabase } from '../dev/database'

/**
 * The stand-ins under load: 50 concurrent keep-alive clients for 10 s each, against the
 * real Redis and MariaDB. Every request must come back 2xx: a lost, errored or timed-out
 * request fails the run.
 */
export interface BenchResult {
  name: string
  requests: number
  reqPerSec: number
  p50: number
  p99: number
  errors: number
}

const connections = Number(process.env.BENCH_CONNECTIONS ?? 50)
const duration = Number(process.env.BENCH_SECONDS ?? 10)

async function drive(name: string, options: autocannon.Options): Promise<BenchResult> {
  process.stdout.write(`  ${name}: ${connections} clients for ${duration} s… `)
  const result = await autocannon({ connections, duration, ...options })
  const errors = result.errors + result.timeouts + result.non2xx
  const out = {
    name,
    requests: result.requests.total,
    reqPerSec: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
  }
  console.log(`${out.reqPerSec} req/s, p50 ${out.p50} ms, p99 ${out.p99} ms, ${errors} failed`)
  return out
}

export async function benchStandIns(): Promise<BenchResult[]> {
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'
  const mysqlUrl = process.env.BENCH_DATABASE_URL || 'mysql://root@127.0.0.1:3306/plaza_bench'
  const token = 'bench-token-0123456789abcdef'
  await resetDatabase(mysqlUrl)
  await ensureReadOnlyUser(mysqlUrl, 'plaza_edge_bench', 'bench-password')
  const direct = new Redis(redisUrl)
  await direct.set(
    'plaza:bench:profile',
    JSON.stringify({ id: 'u1', displayName: 'Ada', bio: 'x'.repeat(200) }),
  )
  // The stand-ins run in their own process, as in `npm run dev`, so the load generator
  // does not share their event loop.
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/standins.ts'], {
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      UPSTASH_TOKEN: token,
      UPSTASH_PORT: '0',
      PLANETSCALE_PORT: '0',
      PLANETSCALE_MYSQL_URL: mysqlUrl,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string]
  const urls = JSON.parse(line) as { upstash: string; planetscale: string }
  const upstash = { url: urls.upstash }
  const planetscale = { url: urls.planetscale }
  const results: BenchResult[] = []
  try {
    const upstashRequest = (command: unknown[]) => ({
      url: upstash.url,
      method: 'POST' as const,
      headers: {
        authorization: `Bearer ${token}`,
        'upstash-encoding': 'base64',
        'content-type': 'application/json',
      },
      body: JSON.stringify(command),
    })
    results.push(
      await drive(
        'Upstash stand-in, GET (cache hit shape)',
        upstashRequest(['GET', 'plaza:bench:profile']),
      ),
    )
    results.push(
      await drive('Upstash stand-in, /pipeline INCR+EXPIRE', {
        ...upstashRequest([]),
        url: `${upstash.url}/pipeline`,
        body: JSON.stringify([
          ['INCR', 'plaza:bench:counter'],
          ['EXPIRE', 'plaza:bench:counter', '60'],
        ]),
      }),
    )
    const auth = `Basic ${Buffer.from('plaza_edge_bench:bench-password').toString('base64')}`
    const execute = (query: string) => ({
      url: `${planetscale.url}/psdb.v1alpha1.Database/Execute`,
      method: 'POST' as const,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ query, session: null }),
    })
    results.push(await drive('PlanetScale stand-in, SELECT 1', execute('SELECT 1')))
    results.push(
      await drive(
        'PlanetScale stand-in, profile point read',
        execute("SELECT * FROM profiles WHERE user_id = '01J0000000000000000000000' LIMIT 1"),
      ),
    )
  } finally {
    child.kill('SIGTERM')
    await once(child, 'exit')
    direct.disconnect()
  }
  return results
}
