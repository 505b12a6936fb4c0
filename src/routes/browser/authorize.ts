// GET /authorize (RFC 6749 §4.1, RFC 7636, RFC 9207, OpenID Connect Core §3.1.2): checks the
// request, sends the user to sign in and to consent when needed, then back to the client with
// a code. An unknown client or redirect URI is an error page and never a redirect.
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import {
  type AuthorizationRequest,
  AuthorizeRedirectError,
  AuthorizeTargetError,
  parseAuthorizationRequest,
  redirectBack,
} from '../../oauth/authorize/request.js'
import { messagePage } from '../../pages/views.js'
import { AuthorizeQuery, page } from '../../schemas/openapi.js'
import type { ClientStore } from '../../stores/clients.js'
import type { Web } from './web.js'

/** The code's lifetime (RFC 6749 §4.1.2 recommends at most 10 minutes; the contract says 60 s). */
export const CODE_TTL_SECONDS = 60

/** The same /authorize request without one prompt value, to come back to once it is satisfied. */
export function withoutPrompt(url: string, value: 'login' | 'consent'): string {
  const u = new URL(url, 'http://x')
  const prompt = (u.searchParams.get('prompt') ?? '').split(' ').filter((p) => p && p !== value)
  if (prompt.length) u.searchParams.set('prompt', prompt.join(' '))
  else u.searchParams.delete('prompt')
  return `${u.pathname}?${u.searchParams}`
}

/** An authorization request read again from a `return_to` (the consent page); null if it no longer holds. */
export async function requestFrom(clients: Pick<ClientStore, 'findById'>, returnTo: string): Promise<AuthorizationRequest | null> {
  const query = Object.fromEntries(new URL(returnTo, 'http://x').searchParams)
  try {
    return await parseAuthorizationRequest(clients, query)
  } catch {
    return null
  }
}

export function authorizeRoutes(web: Web): FastifyPluginAsync {
  return async (app) => {
    const { stores, config, clock } = app
    const back = (reply: FastifyReply, r: Pick<AuthorizationRequest, 'redirectUri' | 'state'>, params: Record<string, string>) =>
      reply.redirect(redirectBack(r.redirectUri, config.issuer, { ...params, state: r.state }), 303)

    const docs = {
      schema: page(
        'Start an authorization (RFC 6749 §4.1, PKCE)',
        'Signs the user in and asks for consent as needed, then redirects to redirect_uri with a code, or an error.',
      ),
      config: { openapiQuery: AuthorizeQuery },
    }
    app.get('/authorize', docs, async (req, reply) => {
      let request: AuthorizationRequest
      try {
        request = await parseAuthorizationRequest(stores.clients, req.query as Record<string, unknown>)
      } catch (err) {
        if (err instanceof AuthorizeTargetError) {
          return web.render(reply, 400, 'Cannot sign you in', messagePage({ text: `${err.message} Go back to the application and try again.`, error: true }))
        }
        if (err instanceof AuthorizeRedirectError) return back(reply, err, { error: err.error, error_description: err.description })
        throw err
      }
      const session = await web.session(req)
      if (!session || request.prompt.has('login')) {
        if (request.prompt.has('none')) return back(reply, request, { error: 'login_required', error_description: 'The user is not signed in.' })
        return reply.redirect(`/signin?${new URLSearchParams({ return_to: withoutPrompt(req.url, 'login') })}`, 303)
      }
      const { client } = request
      if (!client.firstParty && (request.prompt.has('consent') || !(await stores.consents.covers(session.userId, client.id, request.scope)))) {
        if (request.prompt.has('none'))
          return back(reply, request, { error: 'consent_required', error_description: 'The user has not consented to this application.' })
        return reply.redirect(`/consent?${new URLSearchParams({ return_to: withoutPrompt(req.url, 'consent') })}`, 303)
      }
      const now = clock.now()
      const code = await stores.authorizationCodes.issue(
        {
          clientId: client.id,
          userId: session.userId,
          sessionId: session.id,
          redirectUri: request.redirectUri,
          codeChallenge: request.codeChallenge,
          nonce: request.nonce ?? null,
          scope: request.scope.join(' '),
          authTime: session.authTime,
          expiresAt: new Date(now + CODE_TTL_SECONDS * 1000),
        },
        new Date(now),
      )
      return back(reply, request, { code })
    })
  }
}
