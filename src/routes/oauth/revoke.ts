// POST /revoke (RFC 7009): always 200 for a token that is not ours (§2.2), an error only for a
// bad request or another client's token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { refreshCookie } from '../../http/refresh-cookie.js'
import { requestMeta } from '../../http/request-meta.js'
import { epochSeconds } from '../../lib/clock.js'
import { authenticateClient } from '../../oauth/client-auth.js'
import { InvalidRequest } from '../../oauth/errors.js'
import { revokeToken } from '../../oauth/revocation.js'
import { readToken } from '../../oauth/tokens/verify.js'
import { withErrors } from '../../schemas/errors.js'
import { RevokeRequest } from '../../schemas/oauth.js'
import { clientAuthenticated } from '../../schemas/openapi.js'

const revoke: FastifyPluginAsyncTypebox = async (app) => {
  const { stores, keys, config, clock, audit } = app
  const cookies = refreshCookie(config.issuer, config.corsOrigins)

  app.post(
    '/revoke',
    {
      ...app.limits.route(config.rateLimitToken),
      schema: {
        summary: 'Revoke a token (RFC 7009)',
        ...clientAuthenticated,
        body: RevokeRequest,
        response: withErrors({ 200: Type.Unsafe<undefined>({ description: 'Revoked, or not a token of ours: no body (RFC 7009 §2.2).' }) }),
      },
    },
    async (req, reply) => {
      const params = req.body as Record<string, string>
      const { client } = await authenticateClient(stores.clients, req.headers.authorization, params)
      const token = params.token ?? (client.cookieDelivery ? cookies.read(req) : undefined)
      if (!token) throw new InvalidRequest('token is required.')
      // A revocation that only the browser's cookie authenticates: from our own pages only
      // (before the cookie is cleared: a foreign page may not sign the user out either).
      if (!params.token && client.public) cookies.assertTrustedOrigin(req)
      if (client.cookieDelivery) cookies.clear(reply)
      const verified = readToken(token, ['access', 'refresh'], { keys, issuer: config.issuer, now: epochSeconds(clock) })
      if (verified) await revokeToken({ families: stores.families, revocations: stores.revocations, audit, clock }, verified, client, requestMeta(req))
      return reply.code(200).send()
    },
  )
}

export default revoke
