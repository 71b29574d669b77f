import { describe, expect, it } from 'vitest'
import { recordRequest, requestDataPoint } from '../../edge/analytics'

describe('Analytics Engine data points (where a dataset is bound)', () => {
  it('indexes by route (never an id past it), with the cache verdict, status and time', () => {
    const point = requestDataPoint({
      method: 'GET',
      path: '/v1/profiles/01JABCDEF',
      status: 200,
      ms: 12,
      cache: 'HIT',
    })
    expect(point).toEqual({
      indexes: ['/v1/profiles'],
      blobs: ['GET', '/v1/profiles', 'HIT', '200'],
      doubles: [12, 0],
    })
    expect(
      requestDataPoint({ method: 'POST', path: '/', status: 503, ms: 1, cache: undefined }),
    ).toMatchObject({ indexes: ['/'], blobs: ['POST', '/', 'NONE', '503'], doubles: [1, 1] })
  })

  it('writes one point per request to a bound dataset, nothing without one, and never throws', () => {
    const written: AnalyticsEngineDataPoint[] = []
    const facts = { method: 'GET', path: '/v1/me', status: 200, ms: 3, cache: undefined }
    recordRequest({ writeDataPoint: (p: AnalyticsEngineDataPoint) => written.push(p) }, facts)
    recordRequest(undefined, facts)
    expect(written).toHaveLength(1)
    const failing = {
      writeDataPoint: () => {
        throw new Error('buffer full')
      },
    }
    expect(() => recordRequest(failing, facts)).not.toThrow()
  })
})
