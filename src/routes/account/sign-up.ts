// POST /users: sign-up while REGISTRATION=open.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { createAccount, userView } from '../../accounts/accounts.js'
import { requestMeta } from '../../http/request-meta.js'
import { Forbidden } from '../../oauth/errors.js'
import { withErrors } from '../../schemas/errors.js'
import { SignUpBody, UserView } from '../../schemas/users.js'

const signUp: FastifyPluginAsyncTypebox = async (app) => {
  const options = { schema: { body: SignUpBody, response: withErrors({ 201: UserView }) }, ...app.limits.route(app.config.rateLimitSignup) }
  app.post('/users', options, async (req, reply) => {
    if (app.config.registration !== 'open') throw new Forbidden('Registration is closed.')
    const user = await createAccount(app.stores.users, req.body)
    await app.audit.record({ type: 'user.created', actorId: user.id, subjectId: user.id, ...requestMeta(req) })
    return reply.code(201).send(userView(user))
  })
}

export default signUp
