// GET /me and GET /userinfo: the caller's own profile; every route here needs an access token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { userView } from '../../accounts/accounts.js'
import { Forbidden } from '../../oauth/errors.js'
import bearer from '../../plugins/bearer.js'
import { withErrors } from '../../schemas/errors.js'
import { ProfileView } from '../../schemas/users.js'

const profile: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(bearer)
  const schema = { response: withErrors({ 200: ProfileView }), security: [{ bearer: [] }] }
  const handler = async (req: { token: { sub: string } }) => {
    const user = await app.stores.users.findById(req.token.sub)
    if (!user) throw new Forbidden('This token does not belong to a user.')
    return { sub: user.id, ...userView(user) }
  }
  app.get('/userinfo', { schema: { ...schema } }, handler)
  app.get('/me', { schema: { ...schema } }, handler)
}

export default profile
