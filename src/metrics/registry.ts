// Tessera's Prometheus metrics (README.md#metrics): one registry per app, so that
// two apps in one process (tests, the bench) count apart. Counters are cheap to bump on hot paths;
// gauges that describe a state (key age, the database pool) are read only when scraped.
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client'
import type { PoolUse } from '../stores/database.js'

/**
 * Request latency buckets, in seconds: few, because each one is a series per route and status,
 * and observing walks them. A token is a millisecond or two (RSA signing), a password grant
 * tens (argon2), anything past a second is trouble.
 */
export const DURATION_BUCKETS = [0.005, 0.025, 0.1, 0.25, 1, 2.5]

export function createMetrics() {
  const registry = new Registry()
  const registers = [registry]
  return {
    registry,
    httpRequests: new Counter({
      name: 'tessera_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern (never the raw URL; "unmatched" for no route) and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'tessera_http_request_duration_seconds',
      help: 'Time from receiving a request to finishing its answer, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    tokensIssued: new Counter({
      name: 'tessera_tokens_issued_total',
      help: 'Successful POST /token answers, by grant_type.',
      labelNames: ['grant'],
      registers,
    }),
    refreshReuse: new Counter({
      name: 'tessera_refresh_reuse_detected_total',
      help: 'Spent refresh tokens presented again, whose family was revoked for it.',
      registers,
    }),
    familiesRevoked: new Counter({
      name: 'tessera_families_revoked_total',
      help: 'Refresh families revoked, by reason (revoked_by_client, reuse_detected, code_replayed, user_disabled, password_changed, password_reset, signed_out, logout, consent_withdrawn, client_deleted, key_compromised).',
      labelNames: ['reason'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'tessera_rate_limited_total',
      help: 'Requests refused by a per-address rate limit, by route pattern.',
      labelNames: ['route'],
      registers,
    }),
    signinFailures: new Counter({
      name: 'tessera_signin_failures_total',
      help: 'Failed password checks, on every path that checks one.',
      labelNames: ['via'],
      registers,
    }),
    lockouts: new Counter({ name: 'tessera_lockouts_total', help: 'Accounts locked by too many failed password checks.', registers }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** `tessera_signing_key_age_seconds`: how long ago the active key started signing, computed on scrape. */
export function watchKeyAge(metrics: Metrics, ageSeconds: () => number | undefined): void {
  new Gauge({
    name: 'tessera_signing_key_age_seconds',
    help: 'Seconds since the active signing key became active (rotation resets it).',
    registers: [metrics.registry],
    collect() {
      const age = ageSeconds()
      if (age !== undefined) this.set(age)
    },
  })
}

/** The database pool's gauges (Postgres), read from the pool on scrape; PGlite has no pool and so no such series. */
export function watchPool(metrics: Metrics, use: () => PoolUse): void {
  const gauge = (name: string, help: string, pick: (u: PoolUse) => number) =>
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      collect() {
        this.set(pick(use()))
      },
    })
  gauge('tessera_db_pool_connections', 'Connections the Postgres pool holds open (busy and idle).', (u) => u.total)
  gauge('tessera_db_pool_idle_connections', 'Open Postgres connections not running a query.', (u) => u.idle)
  gauge('tessera_db_pool_waiting_queries', 'Queries waiting for a Postgres connection (the pool is exhausted).', (u) => u.waiting)
  gauge('tessera_db_pool_max_connections', 'The most connections the Postgres pool opens.', (u) => u.max)
}

/**
 * The Node.js runtime's metrics (prom-client's defaults: CPU, memory, event-loop lag, GC, handles),
 * added to an app's registry. They describe the process, and collecting them starts observers
 * (GC, event-loop delay) that cannot be stopped, so they are collected once per process and the
 * same metric objects are registered in each app's registry.
 */
export function addRuntimeMetrics(metrics: Metrics): void {
  // getMetricsAsArray's type is the serialised shape; its elements are the metric objects themselves.
  for (const metric of runtime().getMetricsAsArray() as unknown as Metric[]) metrics.registry.registerMetric(metric)
}

let runtimeRegistry: Registry | undefined
function runtime(): Registry {
  if (!runtimeRegistry) {
    runtimeRegistry = new Registry()
    collectDefaultMetrics({ register: runtimeRegistry })
  }
  return runtimeRegistry
}
