// Housekeeping every instance does in the background: a revoked access token's jti is denied
// only until the token would have expired anyway (docs/tokens.md#revocation), so expired denials are deleted,
// once at start and then every PURGE_INTERVAL. Instances may overlap: the delete is idempotent.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    maintenance: {
      /** Deletes the expired denials now; returns how many. */
      purge(): Promise<number>
    }
  }
}

async function maintenance(app: FastifyInstance) {
  const purge = () => app.stores.revocations.purgeExpired(new Date(app.clock.now()))
  app.decorate('maintenance', { purge })

  const everyMs = app.config.purgeInterval * 1000
  if (everyMs === 0) return
  let running: Promise<void> | undefined
  const tick = () => {
    if (running) return
    running = purge()
      .then((purged) => {
        if (purged > 0) app.log.info({ purged }, 'deleted expired token denials')
      })
      .catch((err: unknown) => app.log.error({ err }, 'deleting expired token denials failed'))
      .finally(() => {
        running = undefined
      })
  }
  const timer = setInterval(tick, everyMs).unref()
  // Not awaited: a large backlog must not hold up the start.
  app.addHook('onReady', async () => tick())
  // Runs before the database closes (onClose hooks run in reverse order of registration).
  app.addHook('onClose', async () => {
    clearInterval(timer)
    await running
  })
}

export default fp(maintenance, { name: 'maintenance', dependencies: ['services'] })
