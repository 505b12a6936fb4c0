// The consent page (docs/pages.md#consent): for a client that is not first-party, the user
// allows or denies the scopes it asks for; a yes is remembered per user, client and scope set.
import type { FastifyPluginAsync } from 'fastify'
import { requestMeta } from '../../http/request-meta.js'
import { redirectBack } from '../../oauth/authorize/request.js'
import { consentPage, messagePage } from '../../pages/views.js'
import { page, ReturnToQuery } from '../../schemas/openapi.js'
import { requestFrom } from './authorize.js'
import { safeReturn, type Web } from './web.js'

export function consentRoutes(web: Web): FastifyPluginAsync {
  return async (app) => {
    const { stores, config, clock, audit } = app
    const gone = 'This sign-in request is no longer valid. Go back to the application and start again.'

    app.get('/consent', { schema: page('The consent page'), config: { openapiQuery: ReturnToQuery } }, async (req, reply) => {
      const returnTo = safeReturn((req.query as Record<string, unknown>).return_to)
      const request = returnTo ? await requestFrom(stores.clients, returnTo) : null
      if (!returnTo || !request) return web.render(reply, 400, 'Allow access', messagePage({ text: gone, error: true }))
      const session = await web.session(req)
      if (!session) return reply.redirect(`/signin?${new URLSearchParams({ return_to: returnTo })}`, 303)
      const user = await stores.users.findById(session.userId)
      return web.render(
        reply,
        200,
        'Allow access',
        consentPage({ csrf: web.csrfToken(req, reply), returnTo, clientName: request.client.name, scopes: request.scope, email: user?.email ?? '' }),
      )
    })

    app.post('/consent', { schema: page('Allow or deny (the page’s form)') }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, string>
      web.checkForm(req, body)
      const returnTo = safeReturn(body.return_to)
      const request = returnTo ? await requestFrom(stores.clients, returnTo) : null
      if (!returnTo || !request) return web.render(reply, 400, 'Allow access', messagePage({ text: gone, error: true }))
      const session = await web.session(req)
      if (!session) return reply.redirect(`/signin?${new URLSearchParams({ return_to: returnTo })}`, 303)
      const who = { actorId: session.userId, subjectId: session.userId, clientId: request.client.id, ...requestMeta(req) }
      if (body.decision !== 'allow') {
        await audit.record({ type: 'consent.denied', ...who, details: { scope: request.scope.join(' ') } })
        const to = redirectBack(request.redirectUri, config.issuer, {
          error: 'access_denied',
          error_description: 'The user denied access.',
          state: request.state,
        })
        return reply.redirect(to, 303)
      }
      await stores.consents.grant(session.userId, request.client.id, request.scope, new Date(clock.now()))
      await audit.record({ type: 'consent.granted', ...who, details: { scope: request.scope.join(' ') } })
      return reply.redirect(returnTo, 303)
    })
  }
}
