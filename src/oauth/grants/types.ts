// The shape every grant handler shares (node-oidc-provider's lib/actions/grants, fosite's
// TokenEndpointHandler): its grant_type, the parameters it reads, and handle(), built from its
// dependencies.
import type { Static, TObject } from 'typebox'
import type { RequestMeta } from '../../audit/trail.js'
import type { Client } from '../../stores/clients.js'
import type { IssuedAccess, IssuedRefresh } from '../tokens/service.js'

export interface GrantContext {
  client: Client
  meta: RequestMeta
  /** The refresh_token cookie of a browser client, when the body has none. */
  cookieRefreshToken?: string | undefined
}

/** What a grant issued; the token route turns it into the RFC 6749 §5.1 response. */
export interface GrantResult {
  access: IssuedAccess
  scope: string
  /** The family's refresh token, for grants that start or rotate one. */
  refresh?: IssuedRefresh
  /** An OpenID Connect ID token, when the scope holds `openid`. */
  idToken?: string
}

export interface GrantHandler<P extends TObject = TObject> {
  grantType: string
  /** The parameters it reads (besides grant_type and client authentication); checked before handle(). */
  params: P
  handle(params: Static<P>, ctx: GrantContext): Promise<GrantResult>
}

/** Keeps each grant's parameter type tied to its schema. */
export const defineGrant = <P extends TObject>(grant: GrantHandler<P>): GrantHandler => grant as unknown as GrantHandler
