// Tessera's Prometheus metrics (docs/endpoints.md#metrics): one registry per app, so that two
// apps in one process (tests, the bench) count apart. Counters are cheap to bump on hot paths.
import { Counter, Registry } from 'prom-client'

export function createMetrics() {
  const registry = new Registry()
  return {
    registry,
    rateLimited: new Counter({
      name: 'tessera_rate_limited_total',
      help: 'Requests refused by a per-address rate limit.',
      labelNames: ['route'],
      registers: [registry],
    }),
    signinFailures: new Counter({
      name: 'tessera_signin_failures_total',
      help: 'Failed password checks, on every path that checks one.',
      labelNames: ['via'],
      registers: [registry],
    }),
    lockouts: new Counter({ name: 'tessera_lockouts_total', help: 'Accounts locked by too many failed password checks.', registers: [registry] }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
