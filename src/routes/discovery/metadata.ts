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
    authorization_endpoint: `${base}/authorize`,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    userinfo_endpoint: `${base}/userinfo`,
    end_session_endpoint: `${base}/logout`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    // RFC 9207: every answer from /authorize carries `iss`.
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['none', 'login', 'consent'],
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
    grant_types_supported: [...grantTypes],
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [ALG],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    // RFC 7662 §4: introspection is for confidential clients.
    introspection_endpoint_auth_methods_supported: AUTH_METHODS.filter((m) => m !== 'none'),
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [ALG],
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'nonce',
      'at_hash',
      'sid',
      'jti',
      'client_id',
      'scope',
      'roles',
      'email',
      'email_verified',
      'name',
    ],
  }
}
