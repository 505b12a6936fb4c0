// Liveness (the process answers) and readiness (database reachable, an active key loaded).
import type { FastifyInstance } from 'fastify'
import { Unavailable } from '../oauth/errors.js'

export default async function health(app: FastifyInstance) {
  // Probes hit these every few seconds: log them only when something goes wrong.
  const quiet = { logLevel: 'warn' as const }
  app.get('/healthz', quiet, (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'ok' }))

  app.get('/readyz', quiet, async (req, reply) => {
    reply.header('cache-control', 'no-store')
    if (!app.keys.ready) throw new Unavailable('No active signing key is loaded.')
    try {
      await withTimeout(app.db.query('SELECT 1'), 2000)
    } catch (err) {
      req.log.warn({ err }, 'readiness: database unreachable')
      throw new Unavailable('The database is unreachable.')
    }
    return { status: 'ok', database: app.db.kind, active_kid: app.keys.signer.kid }
  })
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
    }),
  ])
}
