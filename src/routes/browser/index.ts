// The browser side (docs/pages.md): GET /authorize and Tessera's own pages, in one context with
// cookies, form bodies, the pages' headers and an error handler that answers with a page.
import { createHash } from 'node:crypto'
import cookie from '@fastify/cookie'
import type { FastifyError, FastifyPluginAsync } from 'fastify'
import Type from 'typebox'
import { acceptForms } from '../../http/bodies.js'
import { toOAuthError } from '../../http/json-errors.js'
import { stylesheet } from '../../pages/layout.js'
import { messagePage } from '../../pages/views.js'
import { tagRoutes } from '../../plugins/docs.js'
import { authorizeRoutes } from './authorize.js'
import { consentRoutes } from './consent.js'
import { logoutRoutes } from './logout.js'
import { passwordRoutes } from './password.js'
import { signInRoutes } from './sign-in.js'
import { web as makeWeb } from './web.js'

const browser: FastifyPluginAsync = async (app) => {
  tagRoutes(app, 'Pages')
  await app.register(cookie)
  acceptForms(app)
  const web = makeWeb(app)

  // Whatever goes wrong, the browser gets a page that says so: never JSON, a stack or a 500 body.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const e = toOAuthError(err, app.config.bodyLimit, ['application/x-www-form-urlencoded'])
    if (e.statusCode >= 500) req.log.error({ err }, e.error === 'unavailable' ? 'database unavailable' : 'unhandled error')
    else if (e.reason) req.log.info({ error: e.error, reason: e.reason }, 'request refused')
    const text =
      e.statusCode >= 500
        ? e.error === 'unavailable'
          ? 'The service is unavailable right now. Try again in a moment.'
          : 'Something went wrong on our side. Try again in a moment.'
        : e.error === 'rate_limited'
          ? 'Too many attempts from your network. Wait a minute and try again.'
          : e.description
    reply.headers(e.headers)
    return web.render(reply, e.statusCode, e.statusCode >= 500 ? 'Unavailable' : 'Cannot continue', messagePage({ text, error: true }))
  })

  const css = stylesheet(web.brand)
  const etag = `"${createHash('sha256').update(css).digest('base64url').slice(0, 16)}"`
  const cssSchema = {
    summary: 'The pages’ stylesheet',
    response: {
      200: { description: 'CSS; ETag, 304.', content: { 'text/css': { schema: Type.String() } } },
      304: Type.Unsafe<undefined>({ description: 'The ETag given in If-None-Match is current.' }),
    },
  }
  app.get('/assets/tessera.css', { schema: cssSchema }, async (req, reply) => {
    reply.header('cache-control', 'public, max-age=3600').header('etag', etag).type('text/css; charset=utf-8')
    if (req.headers['if-none-match'] === etag) return reply.code(304).send()
    return css
  })

  await app.register(authorizeRoutes(web))
  await app.register(signInRoutes(web))
  await app.register(consentRoutes(web))
  await app.register(passwordRoutes(web))
  await app.register(logoutRoutes(web))
}

export default browser
