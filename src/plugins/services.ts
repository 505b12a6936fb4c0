// The domain services every route uses, built once from the database, key ring and clock.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createGrants } from '../oauth/grants/index.js'
import type { GrantHandler } from '../oauth/grants/types.js'
import { type TokenService, tokenService } from '../oauth/tokens/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
    grants: Map<string, GrantHandler>
  }
}

async function services(app: FastifyInstance) {
  const { stores } = app
  const tokens = tokenService({ config: app.config, keys: app.keys, clock: app.clock, families: stores.families })
  app.decorate('tokens', tokens)
  app.decorate('grants', createGrants({ config: app.config, stores, tokens, keys: app.keys, clock: app.clock }))
}

export default fp(services, { name: 'services', dependencies: ['stores', 'keyring'] })
