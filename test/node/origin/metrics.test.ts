import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signRequest } from '../../../shared/internal/signature'
import { databaseUrl } from '../../support/env'
import { sample } from '../../support/metrics'
import { type OriginProcess, startOrigin } from '../../support/origin'

// The observability issue's first slice: one scrape of the primary is the whole cluster.
const secret = 'metrics-test-secret-0123456789abcdef0123'
let origin: OriginProcess

beforeAll(async () => {
  origin = await startOrigin({
    EDGE_SIGNING_SECRET: secret,
    ORIGIN_WORKERS: '2',
    DATABASE_URL: databaseUrl('plaza_test'),
  })
})

afterAll(async () => {
  await origin?.stop()
})

describe('origin metrics', () => {
  it('counts every request of every worker by route template, in one scrape of the primary', async () => {
    const labels = { method: 'GET', route: '/v1/profiles/:id', status: '404' }
    const before = sample(
      await (await fetch(origin.metricsUrl)).text(),
      'http_requests_total',
      labels,
    )
    const n = 40
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const path = `/v1/profiles/01JD3Q6Z8Y00000000000000${String(i).padStart(2, '0')}`
        const headers = await signRequest(secret, {
          method: 'GET',
          pathWithQuery: path,
          userId: '',
          body: new Uint8Array(),
        })
        // A new connection each: requests spread over both workers.
        await fetch(`${origin.url}${path}`, { headers: { ...headers, connection: 'close' } })
      }),
    )
    const text = await (await fetch(origin.metricsUrl)).text()
    expect(sample(text, 'http_requests_total', labels) - before).toBe(n)
    expect(sample(text, 'http_request_duration_seconds_count', labels) - before).toBe(n)
    // The raw path never becomes a label (bounded cardinality).
    expect(text).not.toContain('01JD3Q6Z8Y')
    expect(text).toMatch(/^db_pool_connections\{state="in_use"\} \d+/m)
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m)
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m)
  })

  it('serves only GET /metrics on its port, and nothing on the public one', async () => {
    const other = await fetch(origin.metricsUrl.replace('/metrics', '/health'))
    expect(other.status).toBe(404)
    const publicPort = await fetch(`${origin.url}/metrics`)
    expect(publicPort.status).toBe(404)
  })
})
