// The domain services every route uses, built once from the database, key ring and clock.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createGrants } from '../oauth/grants/index.js'
import type { GrantHandler } from '../oauth/grants/types.js'
import { type TokenService, tokenService } from '../oauth/tokens/service.js'
import { createStores, type Stores } from '../stores/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    stores: Stores
    tokens: TokenService
    grants: Map<string, GrantHandler>
  }
}

async function services(app: FastifyInstance) {
  // Clients are read on every /token request; a change reaches every instance within 5 s.
  const stores = createStores(app.db, { clientCacheMs: 5000 })
  const tokens = tokenService({ config: app.config, keys: app.keys, clock: app.clock, families: stores.families })
  app.decorate('stores', stores)
  app.decorate('tokens', tokens)
  app.decorate('grants', createGrants({ config: app.config, stores, tokens, keys: app.keys, clock: app.clock }))
}

export default fp(services, { name: 'services', dependencies: ['database', 'keyring'] })
