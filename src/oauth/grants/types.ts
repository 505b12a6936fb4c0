// The shape every grant handler shares (node-oidc-provider's lib/actions/grants, fosite's
// TokenEndpointHandler): its grant_type, and handle(), built from its dependencies.
import type { Client } from '../../stores/clients.js'
import type { RequestMeta } from '../tokens/service.js'

export interface GrantContext {
  /** The token request's parameters, each present at most once. */
  params: Record<string, string | undefined>
  client: Client
  meta: RequestMeta
  /** The refresh_token cookie of a browser client, when the body has none. */
  cookieRefreshToken?: string | undefined
}

export interface TokenResult {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  refresh_token?: string
  /** Not sent: how long the refresh token lives, for the cookie's Max-Age. */
  refreshExpiresIn?: number
}

export interface GrantHandler {
  grantType: string
  handle(ctx: GrantContext): Promise<TokenResult>
}
