// The metrics listener: Prometheus text at GET /metrics on its own address (METRICS_HOST and
// METRICS_PORT), never on the public port, so that scraping needs no credentials and the
// internals it shows stay off the network the clients use.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Metrics } from './registry.js'

export interface MetricsListener {
  server: Server
  /** http://host:port of the listener (the port the OS chose when asked for 0). */
  url: string
  close(): Promise<void>
}

const notFound = JSON.stringify({ error: 'not_found', error_description: 'Only GET /metrics is served here.' })

/** A node:http server answering GET (and HEAD) /metrics from the app's registry, and 404 JSON to anything else. */
export function metricsServer(app: { metrics: Pick<Metrics, 'registry'> }): Server {
  const { registry } = app.metrics
  return createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(notFound) }).end(notFound)
      return
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
        res.end(req.method === 'HEAD' ? undefined : body)
      },
      () => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('metrics collection failed\n')
      },
    )
  })
}

/** Starts the metrics listener on host:port (0: a free port) and resolves once it listens. */
export async function startMetricsListener(app: { metrics: Pick<Metrics, 'registry'> }, opts: { host: string; port: number }): Promise<MetricsListener> {
  const server = metricsServer(app)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { address, family, port } = server.address() as AddressInfo
  const host = family === 'IPv6' ? `[${address}]` : address
  let closed: Promise<void> | undefined
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        // A scraper keeps its connection open between scrapes: do not wait for it.
        server.closeIdleConnections()
      })),
  }
}
