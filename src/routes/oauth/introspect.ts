// POST /introspect (RFC 7662): for confidential clients (resource servers). `active: false` for
// anything invalid, expired, revoked or of a family that is not live, and for a token that is
// not the caller's business (its client's, or for an access token its audience's); else the
// token's claims.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { epochSeconds } from '../../lib/clock.js'
import { authenticateClient } from '../../oauth/client-auth.js'
import { InvalidClient } from '../../oauth/errors.js'
import { tokenStatus } from '../../oauth/tokens/status.js'
import { readToken, type VerifiedToken } from '../../oauth/tokens/verify.js'
import { withErrors } from '../../schemas/errors.js'
import { IntrospectionResponse, IntrospectRequest } from '../../schemas/oauth.js'
import { clientAuthenticated } from '../../schemas/openapi.js'
import type { Client } from '../../stores/clients.js'

/**
 * Who may introspect a token: the client it was issued to, and, for an access token, the
 * resource server it was issued for: a client registered with that audience (`--audience
 * orders-api` for tokens whose `aud` is `orders-api`). A client registered without an audience
 * serves none; DEFAULT_AUDIENCE is what its own tokens are for, not what it is. A refresh
 * token is its own client's only (its audience is the issuer).
 */
function mayIntrospect(caller: Client, token: VerifiedToken): boolean {
  if (token.claims.client_id === caller.id) return true
  if (token.kind !== 'access' || caller.audience === null) return false
  const aud = token.claims.aud
  return Array.isArray(aud) ? aud.includes(caller.audience) : aud === caller.audience
}

const introspect: FastifyPluginAsyncTypebox = async (app) => {
  const { stores, keys, config, clock } = app

  app.post(
    '/introspect',
    {
      schema: {
        summary: 'Introspect a token (RFC 7662)',
        ...clientAuthenticated,
        body: IntrospectRequest,
        response: withErrors({ 200: IntrospectionResponse }),
      },
      ...app.limits.route(config.rateLimitToken),
    },
    async (req) => {
      const params = req.body as Record<string, string>
      const { client } = await authenticateClient(stores.clients, req.headers.authorization, params)
      if (client.public) throw new InvalidClient('Public clients may not introspect tokens.')
      const verified = readToken(req.body.token, ['access', 'refresh'], { keys, issuer: config.issuer, now: epochSeconds(clock) })
      // RFC 7662 §4: a caller learns only about tokens that are its business, and about any
      // other token exactly what it learns about an invalid one.
      if (!verified || !mayIntrospect(client, verified)) return { active: false }
      if ((await tokenStatus(stores, verified, new Date(clock.now()))) !== 'active') return { active: false }
      const c = verified.claims
      return {
        active: true,
        token_type: verified.kind === 'access' ? 'Bearer' : 'refresh_token',
        token_use: verified.kind === 'access' ? 'access_token' : 'refresh_token',
        scope: c.scope,
        client_id: c.client_id,
        sub: c.sub,
        aud: c.aud,
        iss: c.iss,
        exp: c.exp,
        iat: c.iat,
        jti: c.jti,
        sid: c.sid,
        roles: c.roles,
      }
    },
  )
}

export default introspect
