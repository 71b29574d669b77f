/**
 * Workers Analytics Engine, where the deployment binds a dataset as `ANALYTICS`
 * (wrangler.toml's production environment; optional — without it nothing is written). One
 * data point per request, written by the runtime without a round trip: what Prometheus
 * gets through Redis here, queried there with SQL (hit ratio: sum(_sample_interval) by
 * blob3; latency quantiles: quantileWeighted(double1, _sample_interval)). The index is the
 * path's first two segments, so sampling keeps every route represented.
 */
export interface RequestFacts {
  method: string
  path: string
  status: number
  ms: number
  cache: string | undefined
}

export function requestDataPoint(facts: RequestFacts): AnalyticsEngineDataPoint {
  const route = facts.path.split('/').slice(0, 3).join('/') || '/'
  return {
    indexes: [route],
    blobs: [facts.method, route, facts.cache ?? 'NONE', String(facts.status)],
    doubles: [facts.ms, facts.status >= 500 ? 1 : 0],
  }
}

/** Writes the request's data point if a dataset is bound; never fails the request. */
export function recordRequest(dataset: unknown, facts: RequestFacts): void {
  if (!dataset) return
  try {
    ;(dataset as AnalyticsEngineDataset).writeDataPoint(requestDataPoint(facts))
  } catch {
    // Analytics are best effort: a full buffer or a bad binding must not cost the request.
  }
}
