// GET /openapi.json and /docs (docs/endpoints.md#openapi): the document lists every route the
// app has, validates as OpenAPI 3.1, names who may call what and the error body, and the docs
// page renders it from local files under a CSP that lets its own scripts run.
import { Validator } from '@seriousme/openapi-schema-validator'
import t from 'tap'
import { build } from '../helpers/build.js'
import { routesOf } from '../helpers/routes.js'

type Media = Record<string, { schema?: Record<string, unknown> }>
interface Operation {
  tags?: string[]
  security?: Record<string, string[]>[]
  parameters?: { name: string; in: string }[]
  requestBody?: { content: Media }
  responses: Record<string, { content?: Media }>
}
interface Doc {
  openapi: string
  servers: { url: string }[]
  tags: { name: string }[]
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, Record<string, unknown>>; schemas: Record<string, Record<string, unknown>> }
}

const ERROR_REF = { $ref: '#/components/schemas/Error' }
/** Fastify's `/users/:id/public` is OpenAPI's `/users/{id}/public`. */
const openapiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}')
/** Swagger UI's own files under /docs/ (its page, GET /docs, is in the document). */
const isUiFile = (url: string) => url.startsWith('/docs/')

t.test('the OpenAPI document', async (t) => {
  const { app, config } = await build(t, 'pglite', { env: { ISSUER: 'https://id.example.test' } })
  const res = await app.inject('/openapi.json')
  t.equal(res.statusCode, 200, 'no credentials needed')
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = res.json() as Doc
  const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })))
  const op = (method: string, path: string) => doc.paths[path]?.[method] as Operation

  t.test('validates as OpenAPI 3.1, and its server is the issuer', async (t) => {
    const validator = new Validator()
    const result = await validator.validate(structuredClone(doc) as unknown as Record<string, unknown>)
    t.ok(result.valid, `valid: ${JSON.stringify(result.errors ?? null).slice(0, 2000)}`)
    t.equal(validator.version, '3.1')
    t.equal(doc.openapi, '3.1.0')
    t.same(doc.servers, [{ url: config.issuer }])
    t.equal(config.issuer, 'https://id.example.test')
  })

  t.test('every route the app has is in it, with its method, and nothing else', async (t) => {
    const routes = routesOf(app).filter((r) => r.method !== 'OPTIONS' && !isUiFile(r.url))
    t.ok(routes.length > 40, `${routes.length} routes`)
    for (const r of routes) t.ok(op(r.method.toLowerCase(), openapiPath(r.url)), `${r.method} ${r.url} is documented`)
    const names = new Set(routes.map((r) => `${r.method.toLowerCase()} ${openapiPath(r.url)}`))
    for (const o of operations) t.ok(names.has(`${o.method} ${o.path}`), `${o.method.toUpperCase()} ${o.path} is a route`)
    for (const path of ['/revocations', '/docs', '/openapi.json', '/authorize', '/admin/clients/{id}']) t.ok(doc.paths[path], `${path} is there`)
  })

  t.test('every operation is tagged by area, with a declared tag', async (t) => {
    const declared = new Set(doc.tags.map((tag) => tag.name))
    for (const o of operations) t.ok(o.op.tags?.length === 1 && declared.has(o.op.tags[0]!), `${o.method} ${o.path}: ${o.op.tags}`)
    t.same(op('post', '/token').tags, ['OAuth'])
    t.same(op('get', '/signin').tags, ['Pages'])
    t.same(op('get', '/admin/keys').tags, ['Admin'])
  })

  t.test('security: client authentication on the OAuth endpoints, bearer on /me and /admin', async (t) => {
    t.match(doc.components.securitySchemes.clientSecretBasic, { type: 'http', scheme: 'basic' })
    t.match(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    for (const path of ['/token', '/revoke', '/introspect']) t.same(op('post', path).security, [{ clientSecretBasic: [] }, {}], `${path}: Basic, or the form`)
    const form = op('post', '/token').requestBody?.content['application/x-www-form-urlencoded']?.schema as { properties: Record<string, unknown> }
    t.ok(form?.properties.grant_type, '/token takes a form with grant_type')
    const bearer = [{ bearer: [] }]
    for (const o of operations.filter((o) => o.path === '/me' || o.path.startsWith('/me/') || o.path.startsWith('/admin/') || o.path === '/userinfo'))
      t.same(o.op.security, bearer, `${o.method.toUpperCase()} ${o.path}: bearer`)
    for (const path of ['/healthz', '/.well-known/jwks.json', '/openapi.json', '/users']) {
      for (const o of Object.values(doc.paths[path] ?? {})) t.equal(o.security, undefined, `${path}: open`)
    }
  })

  t.test('the JSON routes reference the one error body on their 4xx and 5xx', async (t) => {
    t.match(doc.components.schemas.Error, { type: 'object', required: ['error', 'error_description'] })
    const json = operations.filter((o) => !o.op.tags?.includes('Pages') && o.path !== '/docs')
    t.ok(json.length > 30)
    for (const o of json)
      for (const status of ['4XX', '5XX']) t.same(o.op.responses[status]?.content?.['application/json']?.schema, ERROR_REF, `${o.method} ${o.path} ${status}`)
    t.notMatch(JSON.stringify(doc.paths), /"error_description"/, 'no inline copy left')
  })

  t.test('the pages answer text/html, and their query is shown', async (t) => {
    for (const o of operations.filter((o) => o.op.tags?.includes('Pages') && o.path !== '/assets/tessera.css')) {
      t.ok(o.op.responses['200']?.content?.['text/html'], `${o.method} ${o.path}: HTML`)
      t.ok(o.op.responses['4XX']?.content?.['text/html'], `${o.method} ${o.path}: an error is HTML too`)
    }
    const query = (op('get', '/authorize').parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name)
    for (const name of ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'state', 'nonce', 'prompt'])
      t.ok(query.includes(name), `/authorize ?${name}`)
    t.ok(op('get', '/docs').responses['200']?.content?.['text/html'], '/docs is a page')
  })

  t.test('the pages still validate nothing: a repeated /authorize parameter is answered by the route, not by a schema', async (t) => {
    const res = await app.inject('/authorize?client_id=a&client_id=b')
    t.equal(res.statusCode, 400)
    t.match(res.headers['content-type'], /^text\/html/)
  })
})

t.test('/docs renders the document from local files, and its CSP lets only those run', async (t) => {
  const { app } = await build(t, 'pglite')
  const page = await app.inject('/docs')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  const csp = String(page.headers['content-security-policy'])
  t.match(csp, /script-src 'self'(;|$)/)
  t.match(csp, /frame-ancestors 'none'/)
  t.notMatch(page.body, /https?:\/\//, 'nothing from another host')
  const scripts = [...page.body.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!)
  t.ok(scripts.length >= 2, `scripts: ${scripts.join(', ')}`)
  t.notMatch(page.body.replace(/<script src="[^"]+" charset="UTF-8"> <\/script>/g, ''), /<script/, 'no inline script')
  for (const src of scripts) {
    const res = await app.inject(new URL(src, 'http://x/docs').pathname)
    t.equal(res.statusCode, 200, src)
    t.match(res.headers['content-type'], /javascript/, src)
  }
  const init = await app.inject('/docs/static/swagger-initializer.js')
  t.match(init.body, /validatorUrl: null/, 'no call to an online validator')
  const json = await app.inject('/docs/json')
  t.same(json.json(), (await app.inject('/openapi.json')).json(), 'the page shows the same document')
})
