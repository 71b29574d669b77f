import { env, exports } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import app from '../../edge/index'
import { signRequest } from '../../shared/internal/signature'

// The Worker exactly as wrangler.toml configures it, called in-process.
const edge = (exports as unknown as { default: Fetcher }).default

// Runs inside workerd.
const operator = () =>
  signRequest(env.EDGE_SIGNING_SECRET as string, {
    method: 'GET',
    pathWithQuery: '/health',
    userId: '',
    body: new Uint8Array(),
  })

describe('edge /health', () => {
  it('tells an anonymous caller only whether it is up', async () => {
    const res = await edge.fetch('http://edge/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  it('is 200 and reports every part up', async () => {
    const res = await edge.fetch('http://edge/health', { headers: await operator() })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(await res.json()).toMatchObject({
      status: 'ok',
      parts: {
        edge: { status: 'up' },
        origin: { status: 'up' },
        database: { status: 'up' },
        redis: { status: 'up' },
      },
    })
  })

  it('is 503 and names the part that is down', async () => {
    const brokenEnv = {
      ...env,
      UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1',
      ORIGIN_URL: 'http://127.0.0.1:1',
    }
    const request = new Request('http://edge/health', { headers: await operator() })
    const res = await app.fetch(request, brokenEnv, createCtx())
    expect(res.status).toBe(503)
    const body = (await res.json()) as { status: string; parts: Record<string, { status: string }> }
    expect(body.status).toBe('degraded')
    expect(body.parts.redis?.status).toBe('down')
    expect(body.parts.origin?.status).toBe('down')
    expect(body.parts.database?.status).toBe('up')
  })
})

describe('edge errors', () => {
  it('serves the demo page from static assets, and never for API paths', async () => {
    const page = await edge.fetch('http://edge/')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(await page.text()).toContain('<script type="module" src="/app.js">')
    const script = await edge.fetch('http://edge/app.js')
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    const api = await edge.fetch('http://edge/v1/app.js')
    expect(api.status).toBe(404)
    expect(api.headers.get('content-type')).toMatch(/application\/json/)
  })

  it('answers an unknown route with 404 JSON', async () => {
    const res = await edge.fetch('http://edge/nope')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toMatch(/application\/json/)
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: 'No route for GET /nope' },
    })
  })

  it('answers a 200 KB body with 413 JSON, declared or streamed', async () => {
    const big = 'x'.repeat(200 * 1024)
    const declared = await edge.fetch('http://edge/v1/rooms', { method: 'POST', body: big })
    expect(declared.status).toBe(413)
    expect(await declared.json()).toEqual({
      error: {
        code: 'payload_too_large',
        message: 'Request body is larger than 102400 bytes',
        details: { limitBytes: 102400 },
      },
    })
    const stream = new Blob([big]).stream()
    const streamed = await edge.fetch('http://edge/v1/rooms', { method: 'POST', body: stream })
    expect(streamed.status).toBe(413)
  })

  it('answers writes with 503 and Retry-After when the origin is unreachable', async () => {
    const res = await app.fetch(
      new Request('http://edge/v1/rooms', { method: 'POST', body: '{}' }),
      { ...env, ORIGIN_URL: 'http://127.0.0.1:1' },
      createCtx(),
    )
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable')
  })

  it('names a missing variable instead of failing deeper', async () => {
    const { EDGE_SIGNING_SECRET: _omit, ...incomplete } = env as unknown as Record<string, unknown>
    const res = await app.fetch(new Request('http://edge/health'), incomplete, createCtx())
    expect(res.status).toBe(500)
    expect(JSON.stringify(await res.json())).toContain(
      'EDGE_SIGNING_SECRET is required but not set',
    )
  })
})

describe('edge → origin forwarding', () => {
  it('signs writes so the origin accepts them, and strips identity a client tries to claim', async () => {
    const res = await edge.fetch('http://edge/v1/no-such-thing?x=1', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'edge-forward-1',
        'x-plaza-user': 'admin',
        'x-plaza-signature': 'v1=00',
      },
      body: '{"hello":"world"}',
    })
    // The origin verified the edge's signature (else 401) and routed the request.
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: 'No route for POST /v1/no-such-thing' },
    })
    expect(res.headers.get('x-request-id')).toBe('edge-forward-1')
  })

  it('does not forward reads: a GET of an unknown /v1 route is the edge own 404', async () => {
    const res = await edge.fetch('http://edge/v1/no-such-thing')
    expect(res.status).toBe(404)
  })
})

describe('edge headers', () => {
  it('sets secure headers and a request id on every response', async () => {
    const res = await edge.fetch('http://edge/nope')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('allows CORS only from configured origins', async () => {
    const preflight = (origin: string) =>
      edge.fetch('http://edge/v1/rooms', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      })
    const allowed = await preflight('https://app.example')
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const denied = await preflight('https://evil.example')
    expect(denied.headers.get('access-control-allow-origin')).toBeNull()
  })
})

function createCtx(): ExecutionContext {
  return {
    waitUntil: () => {},
    passThroughOnException: () => {},
    props: {},
  } as unknown as ExecutionContext
}
