// POST /token (RFC 6749 §3.2): authenticate the client, find the grant, let it issue, answer.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { refreshCookie } from '../../http/refresh-cookie.js'
import { requestMeta } from '../../http/request-meta.js'
import { authenticateClient } from '../../oauth/client-auth.js'
import { InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../../oauth/errors.js'
import type { GrantHandler } from '../../oauth/grants/types.js'
import { paramsChecker } from '../../oauth/params.js'
import { withErrors } from '../../schemas/errors.js'
import { TokenRequest, TokenResponse } from '../../schemas/oauth.js'
import { clientAuthenticated } from '../../schemas/openapi.js'

const token: FastifyPluginAsyncTypebox = async (app) => {
  const { grants, stores, config } = app
  const cookies = refreshCookie(config.issuer, config.corsOrigins)
  const checkers = new Map([...grants.values()].map((g): [GrantHandler, ReturnType<typeof paramsChecker>] => [g, paramsChecker(g.params)]))
  // tessera_tokens_issued_total's series, one per grant, made once (and shown at 0 from the start).
  const issuedBy = new Map(
    [...grants.values()].map((g) => {
      const series = app.metrics.tokensIssued.labels({ grant: g.grantType })
      series.inc(0)
      return [g, series]
    }),
  )

  app.post(
    '/token',
    {
      schema: { summary: 'Issue tokens (RFC 6749 §3.2)', ...clientAuthenticated, body: TokenRequest, response: withErrors({ 200: TokenResponse }) },
      ...app.limits.route(config.rateLimitToken),
    },
    async (req, reply) => {
      const params = req.body as Record<string, string>
      if (!params.grant_type) throw new InvalidRequest('grant_type is required.')
      const { client } = await authenticateClient(stores.clients, req.headers.authorization, params)
      const grant = grants.get(params.grant_type)
      if (!grant) throw new UnsupportedGrantType(`Unsupported grant_type "${params.grant_type.slice(0, 64)}".`)
      if (!client.grantTypes.includes(grant.grantType)) throw new UnauthorizedClient(`This client may not use the ${grant.grantType} grant.`)
      const cookieRefreshToken = cookies.read(req)
      // A refresh that only the browser's cookie authenticates: from our own pages only.
      if (grant.grantType === 'refresh_token' && client.public && client.cookieDelivery && !params.refresh_token && cookieRefreshToken) {
        cookies.assertTrustedOrigin(req)
      }
      const issued = await grant.handle(checkers.get(grant)!(params), { client, meta: requestMeta(req), cookieRefreshToken })
      issuedBy.get(grant)!.inc()

      // RFC 6749 §5.1. The family is started either way (it is the session); its refresh token
      // goes only to clients allowed to refresh, and to a browser client in an HttpOnly cookie.
      const refresh = issued.refresh && client.grantTypes.includes('refresh_token') ? issued.refresh : undefined
      if (refresh && client.cookieDelivery) cookies.set(reply, refresh.token, refresh.expiresIn)
      return {
        access_token: issued.access.token,
        token_type: 'Bearer' as const,
        expires_in: issued.access.expiresIn,
        scope: issued.scope,
        ...(refresh && !client.cookieDelivery ? { refresh_token: refresh.token } : {}),
        ...(issued.idToken ? { id_token: issued.idToken } : {}),
      }
    },
  )
}

export default token
