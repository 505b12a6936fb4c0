// The token service, the grant registry and the mailer, built once from the stores, key ring,
// clock and configuration.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { PasswordCheckDeps } from '../accounts/password-check.js'
import { createMailer, type Mailer } from '../mail/mailer.js'
import { createGrants, type GrantRegistry } from '../oauth/grants/index.js'
import { type TokenService, tokenService } from '../oauth/tokens/service.js'

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
    grants: GrantRegistry
    mailer: Mailer
    /** What checking a password needs: its lockout, audit and metrics. */
    passwordCheck: PasswordCheckDeps
  }
}

async function services(app: FastifyInstance) {
  const { stores } = app
  const tokens = tokenService({ config: app.config, keys: app.keys, clock: app.clock, families: stores.families })
  app.decorate('tokens', tokens)
  const mailer = createMailer(app.config, app.log)
  app.addHook('onClose', async () => mailer.close())
  app.decorate('mailer', mailer)
  const check: PasswordCheckDeps = { config: app.config, lockouts: stores.lockouts, audit: app.audit, metrics: app.metrics, clock: app.clock }
  app.decorate('passwordCheck', check)
  app.decorate('grants', createGrants({ config: app.config, check, stores, tokens, keys: app.keys, audit: app.audit, clock: app.clock }))
}

export default fp(services, { name: 'services', dependencies: ['database', 'keyring'] })
