// GET and POST /logout (OpenID Connect RP-Initiated Logout 1.0): ends the browser session and
// every refresh family started from it. With a valid `id_token_hint` the client asked, and the
// user is signed out at once; without one, the user confirms (so that no other site can sign
// them out with a link). `post_logout_redirect_uri` must be one the client registered, exactly.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { requestMeta } from '../../http/request-meta.js'
import { readIdTokenHint } from '../../oauth/tokens/id-token-hint.js'
import { logoutPage, messagePage } from '../../pages/views.js'
import { LogoutQuery, page } from '../../schemas/openapi.js'
import { field, type Web } from './web.js'

const PARAMS = ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id'] as const

export function logoutRoutes(web: Web): FastifyPluginAsync {
  return async (app) => {
    const { stores, config, clock, audit, keys } = app

    /** Where to send the browser after: a registered URI of the client, or nowhere (a page). */
    async function destination(params: Record<string, string | undefined>, hintClient: string | undefined): Promise<{ to?: string; error?: string }> {
      const uri = params.post_logout_redirect_uri
      if (!uri) return {}
      const clientId = hintClient ?? params.client_id
      const client = clientId && clientId.length <= 200 ? await stores.clients.findById(clientId) : null
      if (!client || (params.client_id && hintClient && params.client_id !== hintClient)) {
        return { error: 'The application that sent you here could not be identified, so you stay on this page.' }
      }
      if (!client.postLogoutRedirectUris.includes(uri))
        return { error: 'The address to return to is not one registered for this application, so you stay on this page.' }
      const url = new URL(uri)
      if (params.state) url.searchParams.set('state', params.state)
      return { to: url.toString() }
    }

    async function signOut(req: FastifyRequest, reply: FastifyReply, params: Record<string, string | undefined>, hintClient: string | undefined) {
      const session = await web.session(req)
      if (session) {
        const now = new Date(clock.now())
        await stores.browserSessions.end(session.id, now)
        const revoked = await stores.families.revokeAllOfSession(session.id, 'logout', now)
        const who = { actorId: session.userId, subjectId: session.userId, clientId: hintClient ?? null, ...requestMeta(req) }
        await audit.record({ type: 'signout', ...who, details: { via: 'logout' } })
        await audit.familiesRevoked(revoked, 'logout', who)
      }
      web.clearSession(reply)
      const { to, error } = await destination(params, hintClient)
      if (to) return reply.redirect(to, 303)
      return web.render(
        reply,
        error ? 400 : 200,
        'Signed out',
        messagePage({ text: error ? `You are signed out. ${error}` : 'You are signed out.', error: Boolean(error) }),
      )
    }

    const read = (source: unknown) => Object.fromEntries(PARAMS.map((n) => [n, field(source, n, 8192)])) as Record<(typeof PARAMS)[number], string | undefined>

    app.get('/logout', { schema: page('Sign out (OpenID RP-Initiated Logout 1.0)'), config: { openapiQuery: LogoutQuery } }, async (req, reply) => {
      const params = read(req.query)
      const hint = params.id_token_hint ? readIdTokenHint(params.id_token_hint, { keys, issuer: config.issuer }) : undefined
      if (params.id_token_hint && !hint) {
        return web.render(
          reply,
          400,
          'Sign out',
          messagePage({ text: 'The sign-out request is not valid (its id_token_hint is not ours). Go back to the application.', error: true }),
        )
      }
      const session = await web.session(req)
      // The client proved it asked (the hint names this user), or there is nothing to end.
      if (!session || (hint && hint.sub === session.userId)) return signOut(req, reply, params, hint?.aud)
      const user = await stores.users.findById(session.userId)
      const query = Object.fromEntries(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined))
      return web.render(reply, 200, 'Sign out', logoutPage({ csrf: web.csrfToken(req, reply), email: user?.email ?? '', query }))
    })

    app.post('/logout', { schema: page('Sign out (the page’s form)') }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, string>
      web.checkForm(req, body)
      const params = read(body)
      const hint = params.id_token_hint ? readIdTokenHint(params.id_token_hint, { keys, issuer: config.issuer }) : undefined
      return signOut(req, reply, params, hint?.aud)
    })
  }
}
