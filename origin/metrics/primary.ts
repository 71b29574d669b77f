import { createServer, type Server } from 'node:http'
import { AggregatorRegistry } from 'prom-client'
import type { Logger } from '../logger'

/**
 * `GET /metrics` for the whole cluster, served by the primary on its own port
 * (METRICS_PORT, bound like the origin): never behind the edge, never on the public port.
 * Each scrape asks every worker for its registry over IPC and sums them.
 */
export function serveClusterMetrics(host: string, port: number, logger: Logger): Server {
  const aggregator = new AggregatorRegistry()
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 'not_found', message: 'Only GET /metrics here' } }))
      return
    }
    try {
      const text = await aggregator.clusterMetrics()
      res.writeHead(200, { 'content-type': aggregator.contentType })
      res.end(text)
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'metrics: a worker did not answer')
      res.writeHead(503, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 'unavailable', message: 'Workers did not answer' } }))
    }
  })
  server.listen(port, host, () => logger.info({ port }, 'metrics listening'))
  return server
}
