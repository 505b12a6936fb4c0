// The revocation feed of this instance (oauth/revocation-feed.ts): its copy of the feed's mark,
// kept current by this instance's own revocations and one read a second; stopped before the
// database closes.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type RevocationFeed, revocationFeed } from '../oauth/revocation-feed.js'

declare module 'fastify' {
  interface FastifyInstance {
    revocationFeed: RevocationFeed
  }
}

async function feed(app: FastifyInstance) {
  const f = revocationFeed({
    store: app.stores.revocationFeed,
    clock: app.clock,
    accessTokenTtl: app.config.accessTokenTtl,
    onError: (err) => app.log.warn({ err }, 'revocation feed: reading its mark failed'),
  })
  app.decorate('revocationFeed', f)
  app.addHook('onReady', async () => {
    await f.refresh()
  })
  // Runs before the database closes (onClose hooks run in reverse order of registration).
  app.addHook('onClose', async () => f.close())
}

export default fp(feed, { name: 'revocation-feed', dependencies: ['database'] })
