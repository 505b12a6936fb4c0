// Public discovery: the JWKS (prebuilt bytes, ETag, 304; docs/keys.md#jwks-contents) and the
// RFC 8414 metadata. Resource servers poll these all day: their requests are logged only when
// something goes wrong.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { useJsonErrors } from '../../http/json-errors.js'
import { tagRoutes } from '../../plugins/docs.js'
import { withErrors } from '../../schemas/errors.js'
import { serverMetadata } from './metadata.js'

// The bodies are prebuilt bytes, sent as they are; these schemas document them (and type the reply).
const JwksBody = Type.Unsafe<Buffer>(
  Type.Object(
    {
      keys: Type.Array(
        Type.Object({ kty: Type.Literal('RSA'), n: Type.String(), e: Type.String(), kid: Type.String(), use: Type.Literal('sig'), alg: Type.Literal('RS256') }),
      ),
    },
    { description: 'The published keys: active, next and retiring (RFC 7517 §5).' },
  ),
)
const MetadataBody = Type.Unsafe<Buffer>(Type.Object({}, { additionalProperties: true, description: 'RFC 8414 §2 authorization-server metadata.' }))
const NotModified = Type.Unsafe<undefined>({ description: 'The ETag given in If-None-Match is current.' })

const discovery: FastifyPluginAsyncTypebox = async (app) => {
  tagRoutes(app, 'Discovery')
  useJsonErrors(app)
  const metadata = Buffer.from(JSON.stringify(serverMetadata(app.config, [...app.grants.keys()])))
  const jwksCache = `public, max-age=${app.config.jwksMaxAge}, stale-if-error=86400`
  const quiet = { logLevel: 'warn' as const }

  app.get('/.well-known/jwks.json', { ...quiet, schema: { response: withErrors({ 200: JwksBody, 304: NotModified }) } }, (req, reply) => {
    const { bytes, etag } = app.keys.jwks
    reply.header('cache-control', jwksCache).header('etag', etag)
    // RFC 9110 §13.1.2: If-None-Match may list several tags, or be "*".
    const match = req.headers['if-none-match']
    if (match && (match === '*' || match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))) {
      reply.code(304).send(undefined)
      return
    }
    // Prebuilt bytes: nothing is serialised or encoded per request.
    reply.type('application/json; charset=utf-8').send(bytes)
  })

  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    app.get(path, { ...quiet, schema: { response: withErrors({ 200: MetadataBody }) } }, (_req, reply) => {
      reply.header('cache-control', 'public, max-age=3600').type('application/json; charset=utf-8').send(metadata)
    })
  }
}

export default discovery
