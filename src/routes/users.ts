// Accounts: sign-up (public) and the caller's own profile (bearer).
import type { FastifyInstance } from 'fastify'
import type { Static } from 'typebox'
import { Forbidden } from '../oauth/errors.js'
import bearer from '../plugins/bearer.js'
import { ProfileView, SignUpBody, UserView } from '../schemas/users.js'
import { createAccount, userView } from '../services/accounts.js'
import { requestMeta } from './oauth.js'

export default async function userRoutes(app: FastifyInstance) {
  app.post<{ Body: Static<typeof SignUpBody> }>('/users', { schema: { body: SignUpBody, response: { 201: UserView } } }, async (req, reply) => {
    if (app.config.registration !== 'open') throw new Forbidden('Registration is closed.')
    const user = await createAccount(app.stores, req.body)
    await app.stores.audit.record({ type: 'user.created', actorId: user.id, subjectId: user.id, ...requestMeta(req) })
    return reply.code(201).send(userView(user))
  })

  // Protected: everything registered in here needs a valid access token.
  await app.register(async (secured) => {
    await secured.register(bearer)
    const profile = async (req: { token: { sub: string } }) => {
      const user = await app.stores.users.findById(req.token.sub)
      if (!user) throw new Forbidden('This token does not belong to a user.')
      return { sub: user.id, ...userView(user) }
    }
    secured.get('/userinfo', { schema: { response: { 200: ProfileView } } }, profile)
    secured.get('/me', { schema: { response: { 200: ProfileView } } }, profile)
  })
}
