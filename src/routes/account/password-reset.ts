// POST /password/forgot and POST /password/reset (docs/endpoints.md#password-reset). /forgot
// answers at once and the same way whether or not the account exists; the lookup and the mail
// happen after the answer, so its timing tells nothing either.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { requestReset, resetPassword } from '../../accounts/password-reset.js'
import { requestMeta } from '../../http/request-meta.js'
import { withErrors } from '../../schemas/errors.js'
import { ForgotBody, ResetBody } from '../../schemas/users.js'

const ACCEPTED = { message: 'If an account has this address, a link to reset its password is on its way there.' }

const passwordReset: FastifyPluginAsyncTypebox = async (app) => {
  const { stores, audit, clock, config, mailer } = app
  const deps = { config, users: stores.users, resets: stores.passwordResets, sessions: stores.browserSessions, mailer, audit, clock }
  // Work still running after its answer; awaited on close, so that none is cut off.
  const pending = new Set<Promise<void>>()
  app.addHook('onClose', async () => {
    await Promise.all(pending)
  })

  const limited = app.limits.route(config.rateLimitPassword)
  app.post(
    '/password/forgot',
    { ...limited, schema: { body: ForgotBody, response: withErrors({ 202: Type.Object({ message: Type.String() }) }) } },
    async (req, reply) => {
      const meta = requestMeta(req)
      const work = requestReset(deps, req.body.email, meta)
        .catch((err: unknown) => req.log.error({ err }, 'password reset: the link could not be sent'))
        .finally(() => pending.delete(work))
      pending.add(work)
      return reply.code(202).send(ACCEPTED)
    },
  )

  app.post(
    '/password/reset',
    { ...limited, schema: { body: ResetBody, response: withErrors({ 200: Type.Object({ message: Type.String() }) }) } },
    async (req) => {
      await resetPassword(deps, req.body.token, req.body.password, requestMeta(req))
      return { message: 'Your password is changed, and every session of the account is signed out: sign in again.' }
    },
  )
}

export default passwordReset
