// The OAuth endpoints: POST /token (RFC 6749), /revoke (RFC 7009), /introspect (RFC 7662), and
// GET /revocations (the revocation feed, docs/tokens.md#revocation-feed), in one encapsulated group with its own
// cookies, no-store answers and JSON errors.
import cookie from '@fastify/cookie'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { acceptForms, FORM } from '../../http/bodies.js'
import { useJsonErrors } from '../../http/json-errors.js'
import { oauthParams } from '../../oauth/params.js'
import { tagRoutes } from '../../plugins/docs.js'
import introspect from './introspect.js'
import revocations from './revocations.js'
import revoke from './revoke.js'
import token from './token.js'

const oauth: FastifyPluginAsyncTypebox = async (app) => {
  tagRoutes(app, 'OAuth')
  useJsonErrors(app, [FORM, 'application/json'])
  acceptForms(app)
  // Only these routes read cookies (browser clients' refresh tokens): parse them nowhere else.
  await app.register(cookie)
  // RFC 6749 §5.1: token responses (and, harmlessly, every answer here) are never cached.
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    done(null, payload)
  })
  // RFC 6749 §3.1–§3.2: one string per parameter, before the route's schema checks them.
  app.addHook('preValidation', (req, _reply, done) => {
    try {
      req.body = oauthParams(req.body)
    } catch (err) {
      return done(err as Error)
    }
    done()
  })
  await app.register(token)
  await app.register(revoke)
  await app.register(introspect)
  await app.register(revocations)
}

export default oauth
