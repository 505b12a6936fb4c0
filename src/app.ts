// buildApp: registers every plugin and route on a new Fastify instance; never listens.
import cors from '@fastify/cors'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { setHashConcurrency } from './accounts/passwords.js'
import type { Config } from './config/index.js'
import { jsonBodies } from './http/bodies.js'
import { sendError } from './http/json-errors.js'
import { assertKekAvailable } from './keys/sealing.js'
import { type Clock, systemClock } from './lib/clock.js'
import { requestIdGenerator } from './lib/ids.js'
import { lazyChild } from './lib/lazy-logger.js'
import { createMetrics, type Metrics } from './metrics/registry.js'
import { InvalidRequest, NotFound, Unavailable } from './oauth/errors.js'
import database from './plugins/database.js'
import docs from './plugins/docs.js'
import errors from './plugins/errors.js'
import keyring from './plugins/keyring.js'
import maintenance from './plugins/maintenance.js'
import metrics from './plugins/metrics.js'
import rateLimits from './plugins/rate-limit.js'
import revocationFeed from './plugins/revocation-feed.js'
import services from './plugins/services.js'
import account from './routes/account/index.js'
import admin from './routes/admin/index.js'
import browser from './routes/browser/index.js'
import discovery from './routes/discovery/index.js'
import health from './routes/health/index.js'
import oauth from './routes/oauth/index.js'
import type { Connection } from './stores/database.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    clock: Clock
    metrics: Metrics
  }
}

export interface AppOptions {
  config: Config
  /** An open database to use instead of opening one from the config (the caller closes it). */
  db?: Connection | undefined
  clock?: Clock | undefined
  /** A pino logger (server.ts builds it); no logging when absent. */
  logger?: FastifyBaseLogger | undefined
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops

export async function buildApp(opts: AppOptions) {
  const { config } = opts
  const newRequestId = requestIdGenerator()
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    childLoggerFactory: (logger, bindings, childOptions) => lazyChild(logger, bindings, childOptions),
    bodyLimit: config.bodyLimit,
    // A hop count trusts that many hops, nearest first (proxy-addr's trust(addr, i)); a list,
    // only those proxies. The client address then is the first one not trusted.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    // A client that takes longer than this to send its request is cut off (408): a slow body
    // cannot hold a connection forever.
    requestTimeout: config.requestTimeout * 1000,
    // A caller's X-Request-Id is kept when it is plain, so logs join up across services.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id']
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : newRequestId()
    },
    // Our own 503 (below) keeps the contract's error shape during shutdown.
    return503OnClosing: false,
    // Opening PGlite (WASM) and migrating can take more than Fastify's default 10 s on a busy machine.
    pluginTimeout: 120_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
    // Long enough for any id Tessera has (client ids and kids are shorter); a longer one is a 404.
    routerOptions: { maxParamLength: 512 },
    // Errors the router raises before any route or hook runs, in the contract's shape too
    // (docs/errors.md): a URL that is not valid percent-encoding, a path parameter too long.
    frameworkErrors: (err, req, reply) => {
      reply.header('x-request-id', req.id)
      const path = req.url.split('?')[0] ?? ''
      return sendError(
        reply,
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new NotFound(`No route for ${req.method} ${path.slice(0, 200)}.`)
          : new InvalidRequest('The URL is not valid: its percent-encoding is broken.'),
      )
    },
    // Node answers an HTTP/1.1 request without Host with a bare 400 of its own; let it through,
    // and refuse it below in the contract's shape (RFC 9112 §3.2 still: a 400).
    http: { requireHostHeader: false },
    // Malformed HTTP never reaches a route: answer it in the contract's shape too.
    clientErrorHandler: (err, socket) => {
      if (!socket.writable) return socket.destroy(err)
      const body = JSON.stringify({ error: 'invalid_request', error_description: 'Malformed HTTP request.' })
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)
  app.decorate('clock', opts.clock ?? systemClock)
  app.decorate('metrics', createMetrics())
  // Shutdown (SIGTERM): requests already in flight finish; new ones get 503 `unavailable`, and
  // every answer closes its connection, so keep-alive clients do not hold the close open.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  // Callback-style hooks: they run on every request, and need no promise.
  // Security headers on every answer (docs/endpoints.md#conventions); the HTML pages add their own.
  const hsts = config.issuer.startsWith('https://')
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer')
    if (hsts) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains')
    if (closing) return done(new Unavailable('The server is shutting down; retry on another instance.'))
    if (req.headers.host === undefined && req.raw.httpVersion === '1.1')
      return done(new InvalidRequest('An HTTP/1.1 request needs a Host header (RFC 9112 §3.2).'))
    done()
  })
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })

  setHashConcurrency(config.passwordHashConcurrency)
  // A production start without a key-encryption key stops before touching the database.
  assertKekAvailable(config)

  await app.register(errors)
  // CORS only for the origins named in CORS_ORIGINS; without any, no CORS header at all.
  if (config.corsOrigins.length > 0) await app.register(cors, { origin: config.corsOrigins, credentials: true, maxAge: 600 })
  // JSON by default; the groups that take forms say so in their own context (http/bodies.ts).
  app.removeContentTypeParser('text/plain')
  jsonBodies(app)
  await app.register(rateLimits)
  await app.register(database, { config, db: opts.db })
  await app.register(keyring, { config, clock: app.clock })
  await app.register(services)
  await app.register(maintenance)
  await app.register(revocationFeed)
  // Before the routes, so that its onResponse hook sees every answer.
  await app.register(metrics)

  // Before the routes, so that @fastify/swagger's onRoute hook sees every one of them.
  await app.register(docs, { config })

  // Each route group is its own encapsulated context, with its own error handler.
  await app.register(discovery)
  await app.register(health)
  await app.register(oauth)
  await app.register(account)
  await app.register(admin, { prefix: '/admin' })
  await app.register(browser)
  return app
}

export type App = Awaited<ReturnType<typeof buildApp>>
