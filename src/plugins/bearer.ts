// Bearer authentication (RFC 6750) for Tessera's own protected routes. Register this plugin
// inside the encapsulated context of those routes; public routes never see it.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { epochSeconds } from '../lib/clock.js'
import { Forbidden, InsufficientScope, InvalidRequest, InvalidToken } from '../oauth/errors.js'
import { ADMIN_SCOPE, adminAudience } from '../oauth/scopes.js'
import { tokenStatus } from '../oauth/tokens/status.js'
import { TokenRejected, type VerifiedToken, verifyToken } from '../oauth/tokens/verify.js'

declare module 'fastify' {
  interface FastifyRequest {
    token: VerifiedToken['claims']
  }
}

/** RFC 6750 §2.1: `Authorization: Bearer <b64token>`. */
function bearerOf(req: FastifyRequest): string {
  const header = req.headers.authorization
  if (!header) throw new InvalidToken('An access token is required.', true)
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header)
  if (!match) throw new InvalidRequest('The Authorization header is not a Bearer token.')
  return match[1]!
}

/**
 * Checks the access token: signature and claims (verifyToken), then whether it is still
 * active: its jti not revoked, its family live (docs/tokens.md#live-families).
 */
async function authenticate(app: FastifyInstance, req: FastifyRequest): Promise<VerifiedToken['claims']> {
  let verified: VerifiedToken
  try {
    // Tessera's own endpoints accept its access tokens whatever API they were issued for.
    verified = verifyToken(bearerOf(req), ['access'], { keys: app.keys, issuer: app.config.issuer, now: epochSeconds(app.clock) })
  } catch (err) {
    if (err instanceof TokenRejected) throw new InvalidToken(err.expired ? 'The access token expired.' : 'The access token is invalid.')
    throw err
  }
  const status = await tokenStatus(app.stores, verified, new Date(app.clock.now()))
  if (status !== 'active') throw new InvalidToken(status === 'revoked' ? 'The access token was revoked.' : 'The session was signed out or has ended.')
  const claims = verified.claims
  return claims
}

async function bearer(app: FastifyInstance) {
  app.decorateRequest('token', null as never)
  app.addHook('onRequest', async (req) => {
    req.token = await authenticate(app, req)
  })
}

// fastify-plugin, so the hook applies to the (encapsulated) context that registers it.
export default fp(bearer)

/** preHandler: the token must carry `scope`. */
export const requireScope = (scope: string) => async (req: FastifyRequest) => {
  if (!(req.token.scope ?? '').split(' ').includes(scope)) throw new InsufficientScope(scope)
}

/**
 * preHandler of the admin API, a resource server of its own (docs/endpoints.md#admin-api): the
 * token's audience is `<ISSUER>/admin`, its scope holds `admin`, and its user is an enabled
 * admin now, as the database says (not the token's `roles`): a demoted or disabled admin loses
 * access at once.
 */
export function requireAdmin(app: FastifyInstance) {
  const audience = adminAudience(app.config.issuer)
  return async (req: FastifyRequest) => {
    const { aud, scope, sub } = req.token
    if (!(Array.isArray(aud) ? aud : [aud]).includes(audience)) throw new Forbidden(`The admin API takes only tokens issued for ${audience}.`)
    if (!(scope ?? '').split(' ').includes(ADMIN_SCOPE)) throw new Forbidden(`The admin API needs scope "${ADMIN_SCOPE}".`)
    const user = await app.stores.users.findById(sub)
    if (user?.role !== 'admin' || user.disabledAt) throw new Forbidden('The admin API is for enabled admins.')
  }
}
