// Public discovery: the JWKS (prebuilt bytes, ETag, 304) and RFC 8414 metadata.
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config/index.js'

/** RFC 8414 §2 authorization-server metadata, built once from the configuration. */
export function serverMetadata(config: Config) {
  const base = config.issuer
  return {
    issuer: base,
    token_endpoint: `${base}/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    userinfo_endpoint: `${base}/userinfo`,
    // REQUIRED by RFC 8414; Tessera has no authorization endpoint, so it supports none.
    response_types_supported: [] as string[],
    grant_types_supported: ['password', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'jti', 'client_id', 'scope', 'roles', 'sid', 'email', 'name'],
  }
}

export default async function wellKnown(app: FastifyInstance, opts: { config: Config }) {
  const metadata = Buffer.from(JSON.stringify(serverMetadata(opts.config)))
  const jwksCache = `public, max-age=${opts.config.jwksMaxAge}, stale-if-error=86400`

  // Resource servers poll these all day: their requests are logged only when something goes wrong.
  const quiet = { logLevel: 'warn' as const }

  app.get('/.well-known/jwks.json', quiet, (req, reply) => {
    const { bytes, etag } = app.keys.jwks
    reply.header('cache-control', jwksCache).header('etag', etag)
    // RFC 9110 §13.1.2: If-None-Match may list several tags, or be "*".
    const match = req.headers['if-none-match']
    if (match && (match === '*' || match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))) {
      return reply.code(304).send()
    }
    // Prebuilt bytes: nothing is serialised or encoded per request.
    return reply.type('application/json; charset=utf-8').send(bytes)
  })

  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, quiet, (_req, reply) => reply.header('cache-control', 'public, max-age=3600').type('application/json; charset=utf-8').send(metadata))
  }
}
