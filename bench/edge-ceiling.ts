import autocannon from 'autocannon'
import { startMiniflareEdge } from '../dev/edge'
import { generateSigningKey } from '../dev/jwk'
import type { BenchResult } from './standins'

/**
 * What one workerd process running the edge can answer at most: a route that touches no
 * dependency (the JSON 404), through Miniflare directly. The stand-ins must beat this
 * for them not to be what limits the stack.
 */
export async function benchEdgeCeiling(
  connections: number,
  duration: number,
): Promise<BenchResult> {
  const { jwks } = await generateSigningKey('bench')
  const edge = await startMiniflareEdge({
    vars: {
      JWT_JWKS: jwks,
      ORIGIN_URL: 'http://127.0.0.1:1',
      EDGE_SIGNING_SECRET: 'bench-secret-0123456789abcdef0123456789',
      UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
      UPSTASH_REDIS_REST_TOKEN: 'unused',
      DATABASE_READ_URL: 'http://u:p@127.0.0.1:1',
    },
  })
  try {
    process.stdout.write(
      `  edge in Miniflare, dependency-free route: ${connections} clients for ${duration} s… `,
    )
    const result = await autocannon({ url: `${edge.url}/nope`, connections, duration })
    // A 404 is this route's right answer; any other status counts as failed.
    const otherStatuses = Object.entries(result.statusCodeStats ?? {})
      .filter(([code]) => code !== '404')
      .reduce((sum, [, stat]) => sum + (stat.count ?? 0), 0)
    const failed = result.errors + result.timeouts + otherStatuses
    const out = {
      name: 'edge in Miniflare, dependency-free route (ceiling)',
      requests: result.requests.total,
      reqPerSec: Math.round(result.requests.average),
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: failed,
    }
    console.log(
      `${out.reqPerSec} req/s, p50 ${out.p50} ms, p99 ${out.p99} ms, ${out.errors} failed`,
    )
    return out
  } finally {
    await edge.close()
  }
}
