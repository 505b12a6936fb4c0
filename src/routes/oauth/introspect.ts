// POST /introspect (RFC 7662): for confidential clients (resource servers). `active: false` for
// anything invalid, expired, revoked or of a family that is not live; else the token's claims.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { epochSeconds } from '../../lib/clock.js'
import { authenticateClient } from '../../oauth/client-auth.js'
import { InvalidClient } from '../../oauth/errors.js'
import { tokenStatus } from '../../oauth/tokens/status.js'
import { readToken } from '../../oauth/tokens/verify.js'
import { withErrors } from '../../schemas/errors.js'
import { IntrospectionResponse, IntrospectRequest } from '../../schemas/oauth.js'

const introspect: FastifyPluginAsyncTypebox = async (app) => {
  const { stores, keys, config, clock } = app

  app.post(
    '/introspect',
    {
      schema: { body: IntrospectRequest, response: withErrors({ 200: IntrospectionResponse }) },
    },
    async (req) => {
      const params = req.body as Record<string, string>
      const { client } = await authenticateClient(stores.clients, req.headers.authorization, params)
      if (client.public) throw new InvalidClient('Public clients may not introspect tokens.')
      const verified = readToken(req.body.token, ['access', 'refresh'], { keys, issuer: config.issuer, now: epochSeconds(clock) })
      if (!verified || (await tokenStatus(stores, verified, new Date(clock.now()))) !== 'active') return { active: false }
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
