// The forgot-password and reset-password pages (docs/pages.md#pages): the same
// service as POST /password/forgot and /password/reset; the mail links to /reset-password.
import type { FastifyPluginAsync } from 'fastify'
import { requestReset, resetPassword } from '../../accounts/password-reset.js'
import { requestMeta } from '../../http/request-meta.js'
import { OAuthError } from '../../oauth/errors.js'
import { forgotPasswordPage, messagePage, resetPasswordPage } from '../../pages/views.js'
import { page, ResetLinkQuery } from '../../schemas/openapi.js'
import { field, type Web } from './web.js'

export function passwordRoutes(web: Web): FastifyPluginAsync {
  return async (app) => {
    const { stores, audit, clock, config, mailer } = app
    const deps = { config, users: stores.users, resets: stores.passwordResets, sessions: stores.browserSessions, mailer, audit, clock }
    const limited = app.limits.route(config.rateLimitPassword)
    const pending = new Set<Promise<void>>()
    app.addHook('onClose', async () => {
      await Promise.all(pending)
    })

    app.get('/forgot-password', { schema: page('The forgotten-password page') }, async (req, reply) =>
      web.render(reply, 200, 'Reset your password', forgotPasswordPage({ csrf: web.csrfToken(req, reply) })),
    )

    app.post('/forgot-password', { ...limited, schema: page('Ask for a reset link (the page’s form)') }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, string>
      web.checkForm(req, body)
      const email = field(body, 'email', 320)
      if (!email)
        return web.render(
          reply,
          400,
          'Reset your password',
          forgotPasswordPage({ csrf: web.csrfToken(req, reply), error: 'Enter the email address of your account.' }),
        )
      // As POST /password/forgot: answered at once and the same way, the lookup and the mail after.
      const work = requestReset(deps, email, requestMeta(req))
        .catch((err: unknown) => req.log.error({ err }, 'password reset: the link could not be sent'))
        .finally(() => pending.delete(work))
      pending.add(work)
      return web.render(
        reply,
        200,
        'Check your mail',
        messagePage({
          text: 'If an account exists for that address, we have sent a link to reset its password.',
          link: { href: '/signin', label: 'Back to sign-in' },
        }),
      )
    })

    app.get('/reset-password', { schema: page('The reset-password page'), config: { openapiQuery: ResetLinkQuery } }, async (req, reply) => {
      const token = field(req.query, 'token', 200)
      if (!token)
        return web.render(
          reply,
          400,
          'Choose a new password',
          messagePage({ text: 'This link is incomplete: open the link from the mail again.', error: true }),
        )
      return web.render(reply, 200, 'Choose a new password', resetPasswordPage({ csrf: web.csrfToken(req, reply), token }))
    })

    app.post('/reset-password', { ...limited, schema: page('Set a new password (the page’s form)') }, async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, string>
      web.checkForm(req, body)
      const token = field(body, 'token', 200) ?? ''
      try {
        await resetPassword(deps, token, field(body, 'password') ?? '', requestMeta(req))
      } catch (err) {
        if (!(err instanceof OAuthError) || err.statusCode >= 500) throw err
        const text = err.description.replace(/^Invalid field "password": /, 'Password: ')
        return web.render(reply, err.statusCode, 'Choose a new password', resetPasswordPage({ csrf: web.csrfToken(req, reply), token, error: text }))
      }
      web.clearSession(reply)
      return web.render(reply, 200, 'Password changed', messagePage({ text: 'Your password has been changed.', link: { href: '/signin', label: 'Sign in' } }))
    })
  }
}
