// The retention job, on one instance at a time (a cluster-wide lock), once at start and every
// PURGE_INTERVAL, in small batches so that no delete holds long locks:
// - a revoked access token's jti is denied only until the token would have expired anyway
//   (docs/tokens.md#revocation);
// - a deleted client's revoked family is listed by the revocation feed until its access tokens
//   have expired (ACCESS_TOKEN_TTL after its revocation), then forgotten;
// - a refresh family is kept RETENTION_GRACE past its absolute end, then deleted;
// - a password-reset token goes once used or expired;
// - failed sign-ins are forgotten once their window is over and they hold no lock;
// - audit events are kept AUDIT_RETENTION.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    maintenance: {
      /** Runs the retention job now; returns how many rows it deleted in all. */
      purge(): Promise<number>
    }
  }
}

const BATCH = 1000

/** Calls `step` until it deletes less than a batch; returns how many it deleted. */
async function drain(step: (batch: number) => Promise<number>): Promise<number> {
  let total = 0
  for (;;) {
    const n = await step(BATCH)
    total += n
    if (n < BATCH) return total
  }
}

async function maintenance(app: FastifyInstance) {
  const { stores, config, db } = app

  async function purge(): Promise<number> {
    const deleted = await db.withLock('retention', async () => {
      const now = new Date(app.clock.now())
      const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000)
      return {
        denials: await drain((n) => stores.revocations.purgeExpired(now, n)),
        revoked_sessions: await drain((n) => stores.revocationFeed.purgeSessions(ago(config.accessTokenTtl + 1), n)),
        families: await drain((n) => stores.families.purgeEnded(ago(config.retentionGrace), n)),
        reset_tokens: await drain((n) => stores.passwordResets.purgeSpent(now, n)),
        login_failures: await drain((n) => stores.lockouts.purgeStale(ago(config.lockoutWindow), now, n)),
        browser_sessions: await drain((n) => stores.browserSessions.purgeEnded(now, n)),
        authorization_codes: await drain((n) => stores.authorizationCodes.purgeExpired(now, n)),
        audit_events: await drain((n) => stores.audit.purgeOlderThan(ago(config.auditRetention), n)),
      }
    })
    const total = Object.values(deleted).reduce((a, b) => a + b, 0)
    if (total > 0) app.log.info({ deleted }, 'retention: deleted expired rows')
    return total
  }
  app.decorate('maintenance', { purge })

  const everyMs = config.purgeInterval * 1000
  if (everyMs === 0) return
  let running: Promise<void> | undefined
  const tick = () => {
    if (running) return
    running = purge()
      .then(() => {})
      .catch((err: unknown) => app.log.error({ err }, 'the retention job failed'))
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

export default fp(maintenance, { name: 'maintenance', dependencies: ['database'] })
