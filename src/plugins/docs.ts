// The API document (docs/endpoints.md#openapi): @fastify/swagger builds OpenAPI 3.1 from the
// route schemas, GET /openapi.json serves it, and /docs renders it with Swagger UI from files
// shipped in the package (no CDN: it works offline). Registered before every route group, so
// that its onRoute hook sees them all; the document is built on its first request.
import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifySchema } from 'fastify'
import fp from 'fastify-plugin'
import Type, { type TSchema } from 'typebox'
import type { Config } from '../config/index.js'
import { ErrorBody, withErrors } from '../schemas/errors.js'
import { page } from '../schemas/openapi.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Parameters the document shows but the route reads itself, unvalidated (the pages: they answer a bad one with a page). */
    openapiQuery?: TSchema
  }
}

/** Tags every route of a group (the document's areas): call it in the group's context, before its routes. */
export function tagRoutes(app: FastifyInstance, tag: string): void {
  app.addHook('onRoute', (route) => {
    if (route.schema?.tags === undefined) route.schema = { ...route.schema, tags: [tag] }
  })
}

const TAGS = [
  { name: 'OAuth', description: 'Tokens, revocation and introspection (RFC 6749, 7009, 7662): form bodies, client authentication.' },
  { name: 'Discovery', description: 'The JWKS and the authorization-server metadata (RFC 8414, OpenID Discovery).' },
  { name: 'Accounts', description: 'Sign-up, password reset, public profiles, and the caller’s own account with an access token.' },
  { name: 'Admin', description: 'Users, clients, signing keys and the audit trail: an admin’s access token.' },
  { name: 'Pages', description: 'The hosted HTML pages (docs/pages.md) and GET /authorize: for browsers, text/html answers.' },
  { name: 'Health', description: 'Liveness and readiness probes.' },
  { name: 'Docs', description: 'This document and its docs page.' },
]

/** The error body as it appears in the document, to reference it once under components. */
const ERROR_JSON = JSON.parse(JSON.stringify(ErrorBody)) as unknown
const ERROR_REF = { $ref: '#/components/schemas/Error' }

/** Replaces every inline copy of the error body in the answers with a reference to one schema. */
function referenceErrors(doc: Record<string, unknown>): Record<string, unknown> {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: unknown }> }> }>>
  for (const operations of Object.values(paths))
    for (const operation of Object.values(operations))
      for (const response of Object.values(operation.responses ?? {}))
        for (const media of Object.values(response.content ?? {})) if (isDeepStrictEqual(media.schema, ERROR_JSON)) media.schema = ERROR_REF
  const components = (doc.components ?? {}) as { schemas?: Record<string, unknown> }
  components.schemas = { ...components.schemas, Error: ERROR_JSON }
  doc.components = components
  return doc
}

/** GET /docs is Swagger UI's own route, hidden by it: shown as the page it is. */
const DOCS_PAGE: FastifySchema = { ...page('The API documentation (Swagger UI)'), tags: ['Docs'] }

function version(): string {
  // ../../package.json from both src/plugins and dist/plugins.
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
}

async function docs(app: FastifyInstance, { config }: { config: Config }) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: `${config.brandName} API`,
        version: version(),
        description: 'Tessera, an OAuth 2 / OpenID Connect token server. Errors: docs/errors.md; every endpoint: docs/endpoints.md.',
      },
      servers: [{ url: config.issuer }],
      tags: TAGS,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token issued by this server (RFC 6750).' },
          clientSecretBasic: {
            type: 'http',
            scheme: 'basic',
            description: 'client_secret_basic (RFC 6749 §2.3.1): the client id and secret, form-urlencoded, as user and password.',
          },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      // Fastify hands Swagger UI's `/` under the /docs prefix over as `/docs/` (it serves /docs too).
      if (url === '/docs/' && route.method === 'GET') return { schema: DOCS_PAGE, url: '/docs' }
      const query = route.config?.openapiQuery
      return { schema: query ? { ...schema, querystring: query } : schema, url }
    },
    transformObject: (doc) => ('openapiObject' in doc ? referenceErrors(doc.openapiObject as Record<string, unknown>) : doc.swaggerObject),
  })

  // Served from the issuer's origin; the API calls of "Try it out" go to the same (servers).
  const origin = new URL(config.issuer).origin
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    theme: { title: `${config.brandName} API` },
    uiConfig: { deepLinking: true },
    // Every script and stylesheet is a file of the package, nothing from elsewhere and no inline
    // script; Swagger UI sets a few inline styles (its highlighted answers), harmless without script.
    staticCSP: `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self' ${origin}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  })

  let body: string | undefined
  app.get(
    '/openapi.json',
    {
      schema: {
        summary: 'This OpenAPI 3.1 document',
        tags: ['Docs'],
        response: withErrors({ 200: Type.Unsafe<unknown>({ type: 'object', additionalProperties: true, description: 'The OpenAPI 3.1 document.' }) }),
      },
    },
    (_req, reply) => {
      body ??= JSON.stringify(app.swagger())
      return reply.type('application/json; charset=utf-8').header('cache-control', 'public, max-age=300').send(body)
    },
  )
}

export default fp(docs, { name: 'docs' })
