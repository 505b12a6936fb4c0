// Metrics recording (README.md#metrics): every answer counted and timed by its route's pattern, the active
// key's age and the database pool read on scrape, and the Node.js runtime's defaults. Serving
// them is src/metrics/listener.ts's, on its own port.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Counter, Histogram } from 'prom-client'
import { addRuntimeMetrics, watchKeyAge, watchPool } from '../metrics/registry.js'

async function metrics(app: FastifyInstance) {
  const { metrics, db, keys, clock } = app
  const { poolUse } = db
  if (poolUse) watchPool(metrics, poolUse)
  watchKeyAge(metrics, () => {
    const active = keys.keys.find((k) => k.state === 'active')
    return active && (clock.now() - (active.activatedAt ?? active.createdAt).getTime()) / 1000
  })
  if (app.config.metricsRecording === 'off') return
  addRuntimeMetrics(metrics)
  // One pair of labelled children per method, status and route, made on first sight: recording
  // an answer is then a map lookup, an add and a bucket walk. The label set is bounded: the
  // router's patterns (never the raw URL, so ids and query strings make no new series), Node's
  // known methods, and "unmatched" for answers no route gave (404s, early errors).
  const seen = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<string> }>()
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched'
    const key = `${req.method} ${reply.statusCode} ${route}`
    let series = seen.get(key)
    if (!series) {
      const labels = { method: req.method, route, status: String(reply.statusCode) }
      series = { count: metrics.httpRequests.labels(labels), duration: metrics.httpDuration.labels(labels) }
      seen.set(key, series)
    }
    series.count.inc()
    series.duration.observe(reply.elapsedTime / 1000)
    done()
  })
}

export default fp(metrics, { name: 'metrics', dependencies: ['database', 'keyring'] })
