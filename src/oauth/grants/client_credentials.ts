// grant_type=client_credentials (RFC 6749 §4.4): confidential clients only; `sub` is the
// client itself; no refresh token (§4.4.3).

import type { Config } from '../../config/index.js'
import { InvalidRequest, UnauthorizedClient } from '../errors.js'
import { grantScope, parseScope } from '../scopes.js'
import type { TokenService } from '../tokens/service.js'
import type { GrantHandler } from './types.js'

export function clientCredentialsGrant(deps: { config: Config; tokens: TokenService }): GrantHandler {
  return {
    grantType: 'client_credentials',
    async handle({ params, client }) {
      if (client.public) throw new UnauthorizedClient('Public clients cannot use client_credentials.')
      const scope = grantScope(parseScope(params.scope), client.scopes).join(' ')
      const allowed = client.audience ?? deps.config.defaultAudience
      if (params.audience !== undefined && params.audience !== allowed) throw new InvalidRequest('This client may not request that audience.')
      const access = await deps.tokens.access({ sub: client.id, client, scope, audience: allowed })
      return { access_token: access.token, token_type: 'Bearer', expires_in: access.expiresIn, scope }
    },
  }
}
