// Liveness (the process answers) and readiness (database reachable, an active key loaded).
// Probes hit these every few seconds: they are logged only when something goes wrong.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { useJsonErrors } from '../../http/json-errors.js'
import { Unavailable } from '../../oauth/errors.js'
import { tagRoutes } from '../../plugins/docs.js'
import { withErrors } from '../../schemas/errors.js'

const health: FastifyPluginAsyncTypebox = async (app) => {
  tagRoutes(app, 'Health')
  useJsonErrors(app)
  const quiet = { logLevel: 'warn' as const }
  app.get('/healthz', { ...quiet, schema: { response: withErrors({ 200: Type.Object({ status: Type.Literal('ok') }) }) } }, async (_req, reply) => {
    reply.header('cache-control', 'no-store')
    return { status: 'ok' as const }
  })

  const Ready = Type.Object({
    status: Type.Literal('ok'),
    database: Type.String(),
    active_kid: Type.String(),
    rate_limits: Type.Union([Type.Literal('local'), Type.Literal('shared'), Type.Literal('unavailable')], {
      description: 'Where the per-address counters are: this process, Redis, or nowhere while Redis is down (then they are not enforced).',
    }),
  })
  app.get('/readyz', { ...quiet, schema: { response: withErrors({ 200: Ready }) } }, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    if (!app.keys.ready) throw new Unavailable('No active signing key is loaded.')
    try {
      await app.db.ping(2000)
    } catch (err) {
      req.log.warn({ err }, 'readiness: database unreachable')
      throw new Unavailable('The database is unreachable.')
    }
    // Serving without Redis is degraded, not unready: the limits fail open, and this says so.
    return { status: 'ok' as const, database: app.db.kind, active_kid: app.keys.signer.kid, rate_limits: app.limits.status() }
  })
}

export default health
