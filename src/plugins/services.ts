// The token service and the grant registry, built once from the stores, key ring and clock.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createGrants, type GrantRegistry } from '../oauth/grants/index.js'
import { type TokenService, tokenService } from '../oauth/tokens/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
    grants: GrantRegistry
  }
}

async function services(app: FastifyInstance) {
  const { stores } = app
  const tokens = tokenService({ config: app.config, keys: app.keys, clock: app.clock, families: stores.families })
  app.decorate('tokens', tokens)
  app.decorate('grants', createGrants({ config: app.config, stores, tokens, keys: app.keys, audit: app.audit, clock: app.clock }))
}

export default fp(services, { name: 'services', dependencies: ['database', 'keyring'] })
