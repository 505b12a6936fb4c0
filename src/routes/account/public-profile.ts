// GET /users/{id}/public: what anyone may see of an account, and nothing more.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { publicUserView } from '../../accounts/accounts.js'
import { NotFound } from '../../oauth/errors.js'
import { withErrors } from '../../schemas/errors.js'
import { PublicUserView } from '../../schemas/users.js'

const publicProfile: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/users/:id/public',
    { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: withErrors({ 200: PublicUserView }) } },
    async (req) => {
      const user = await app.stores.users.findById(req.params.id)
      // A disabled account shows nothing either.
      if (!user || user.disabledAt) throw new NotFound('No such user.')
      return publicUserView(user)
    },
  )
}

export default publicProfile
