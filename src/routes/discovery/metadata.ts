// RFC 8414 authorization-server metadata (also served as OpenID Provider Metadata), built once
// from the configuration and from what is implemented: the grant registry, the client
// authentication methods, the signing algorithm.
import type { Config } from '../../config/index.js'
import { ALG } from '../../keys/keyring.js'
import { AUTH_METHODS } from '../../oauth/client-auth.js'

export function serverMetadata(config: Pick<Config, 'issuer'>, grantTypes: readonly string[]) {
  const base = config.issuer
  return {
    issuer: base,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    userinfo_endpoint: `${base}/userinfo`,
    // REQUIRED by RFC 8414 §2; no grant implemented here uses the authorization endpoint.
    response_types_supported: [] as string[],
    grant_types_supported: [...grantTypes],
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [ALG],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    // RFC 7662 §4: introspection is for confidential clients.
    introspection_endpoint_auth_methods_supported: AUTH_METHODS.filter((m) => m !== 'none'),
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ALG],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'roles', 'sid', 'email', 'name'],
  }
}
