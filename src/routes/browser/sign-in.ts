// The sign-in and sign-up pages (docs/pages.md#pages). Sign-in checks the password like every
// other path (accounts/password-check.ts: argon2 always, the lockout, the audit trail), with the
// device cookie's counter for a browser that signed in to the account before.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { createAccount, normaliseEmail } from '../../accounts/accounts.js'
import { checkPassword } from '../../accounts/password-check.js'
import { requestMeta } from '../../http/request-meta.js'
import { OAuthError, RateLimited } from '../../oauth/errors.js'
import { messagePage, signInPage, signUpPage } from '../../pages/views.js'
import { page, ReturnToQuery } from '../../schemas/openapi.js'
import { requestFrom } from './authorize.js'
import { field, safeReturn, type Web } from './web.js'

export function signInRoutes(web: Web): FastifyPluginAsync {
  return async (app) => {
    const { stores, config, clock, audit } = app
    const limited = app.limits.route(config.rateLimitSignin)

    /** The name of the client an /authorize return_to is for, to say where the user is going. */
    const clientName = async (returnTo: string | undefined) => (returnTo ? (await requestFrom(stores.clients, returnTo))?.client.name : undefined)

    /** Signed in: a session, a trusted device, and on to where the user was going. */
    const signedIn = async (req: FastifyRequest, reply: FastifyReply, user: { id: string; email: string }, returnTo: string | undefined) => {
      await web.startSession(req, reply, user.id)
      web.trustDevice(reply, user.email)
      if (returnTo) return reply.redirect(returnTo, 303)
      return web.render(reply, 200, 'Signed in', messagePage({ text: `You are signed in as ${user.email}.`, link: { href: '/logout', label: 'Sign out' } }))
    }

    app.get('/signin', { schema: page('The sign-in page'), config: { openapiQuery: ReturnToQuery } }, async (req, reply) => {
      const q = req.query as Record<string, unknown>
      const returnTo = safeReturn(q.return_to)
      const session = await web.session(req)
      if (session && !returnTo) {
        const user = await stores.users.findById(session.userId)
        return web.render(
          reply,
          200,
          'Signed in',
          messagePage({ text: `You are signed in as ${user?.email ?? 'someone'}.`, link: { href: '/logout', label: 'Sign out' } }),
        )
      }
      const hint = returnTo ? (new URL(returnTo, 'http://x').searchParams.get('login_hint') ?? undefined) : undefined
      return web.render(
        reply,
        200,
        'Sign in',
        signInPage({ csrf: web.csrfToken(req, reply), returnTo, email: hint?.slice(0, 254), clientName: await clientName(returnTo) }),
      )
    })

    app.post('/signin', { ...limited, schema: page('Sign in (the page’s form)') }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, string>
      web.checkForm(req, body)
      const returnTo = safeReturn(body.return_to)
      const typed = field(body, 'email', 320) ?? ''
      const password = field(body, 'password') ?? ''
      const again = async (status: number, error: string) =>
        web.render(
          reply,
          status,
          'Sign in',
          signInPage({ csrf: web.csrfToken(req, reply), returnTo, email: typed.slice(0, 254), error, clientName: await clientName(returnTo) }),
        )
      if (!typed || !password) return again(400, 'Enter your email and your password.')
      const email = normaliseEmail(typed)
      const key = web.lockoutKeyFor(req, email)
      const now = new Date(clock.now())
      const { user, lockedUntil, failures } = await stores.users.findForSignIn(email, key, now)
      const meta = requestMeta(req)
      let ok: boolean
      try {
        ok = await checkPassword(app.passwordCheck, { email, user, lock: { lockedUntil, failures }, key, password, via: 'signin_page', meta })
      } catch (err) {
        if (!(err instanceof RateLimited)) throw err
        reply.headers(err.headers)
        return again(429, 'Too many failed sign-ins for this account. Wait a few minutes, or reset your password.')
      }
      if (!ok || !user || user.disabledAt) {
        if (ok && user?.disabledAt)
          await audit.record({ type: 'signin.failed', subjectId: user.id, ...meta, details: { via: 'signin_page', reason: 'disabled' } })
        return again(400, 'Wrong email or password.')
      }
      await audit.record({ type: 'signin.ok', actorId: user.id, subjectId: user.id, ...meta, details: { via: 'signin_page' } })
      return signedIn(req, reply, user, returnTo)
    })

    app.get('/signup', { schema: page('The sign-up page'), config: { openapiQuery: ReturnToQuery } }, async (req, reply) => {
      const returnTo = safeReturn((req.query as Record<string, unknown>).return_to)
      if (config.registration !== 'open') return web.render(reply, 403, 'Create an account', messagePage({ text: 'Registration is closed.', error: true }))
      return web.render(reply, 200, 'Create an account', signUpPage({ csrf: web.csrfToken(req, reply), returnTo }))
    })

    app.post('/signup', { ...limited, schema: page('Sign up (the page’s form)') }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, string>
      web.checkForm(req, body)
      if (config.registration !== 'open') return web.render(reply, 403, 'Create an account', messagePage({ text: 'Registration is closed.', error: true }))
      const returnTo = safeReturn(body.return_to)
      const email = field(body, 'email', 320) ?? ''
      const name = field(body, 'name', 200)?.trim() || undefined
      let user: Awaited<ReturnType<typeof createAccount>>
      try {
        user = await createAccount(stores.users, { email, password: field(body, 'password') ?? '', ...(name ? { name } : {}) })
      } catch (err) {
        if (!(err instanceof OAuthError) || err.statusCode >= 500) throw err
        // The API's words name its JSON fields; on the page, say it plainly.
        const text = err.description.replace(/^Invalid field "(\w+)": /, (_, f: string) => `${f[0]!.toUpperCase()}${f.slice(1)}: `)
        return web.render(
          reply,
          err.statusCode,
          'Create an account',
          signUpPage({ csrf: web.csrfToken(req, reply), returnTo, email: email.slice(0, 254), name, error: text }),
        )
      }
      await audit.record({ type: 'user.created', actorId: user.id, subjectId: user.id, ...requestMeta(req), details: { via: 'signup_page' } })
      return signedIn(req, reply, user, returnTo)
    })
  }
}
