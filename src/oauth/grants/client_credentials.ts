// grant_type=client_credentials (RFC 6749 §4.4): confidential clients only; `sub` is the
// client itself; no refresh token (§4.4.3).
import Type from 'typebox'
import type { Config } from '../../config/index.js'
import { InvalidRequest, UnauthorizedClient } from '../errors.js'
import { ScopeParam } from '../params.js'
import { grantScope, parseScope } from '../scopes.js'
import type { TokenService } from '../tokens/service.js'
import { defineGrant } from './types.js'

export const ClientCredentialsParams = Type.Object({
  scope: Type.Optional(ScopeParam),
  audience: Type.Optional(Type.String({ maxLength: 512, description: "The API the token is for; only the client's own audience is allowed." })),
})

export interface ClientCredentialsDeps {
  config: Pick<Config, 'defaultAudience'>
  tokens: Pick<TokenService, 'access'>
}

export function clientCredentialsGrant({ config, tokens }: ClientCredentialsDeps) {
  return defineGrant({
    grantType: 'client_credentials',
    params: ClientCredentialsParams,
    async handle(params, { client }) {
      if (client.public) throw new UnauthorizedClient('Public clients cannot use client_credentials.')
      const scope = grantScope(parseScope(params.scope), client.scopes).join(' ')
      const audience = client.audience ?? config.defaultAudience
      if (params.audience !== undefined && params.audience !== audience) throw new InvalidRequest('This client may not request that audience.')
      return { access: await tokens.access({ sub: client.id, client, scope, audience }), scope }
    },
  })
}
