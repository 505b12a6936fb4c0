// Accounts (docs/endpoints.md#accounts): sign-up, public profiles and password reset for anyone;
// the caller's own account and sessions with an access token. JSON only, JSON errors.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { useJsonErrors } from '../../http/json-errors.js'
import { tagRoutes } from '../../plugins/docs.js'
import me from './me.js'
import passwordReset from './password-reset.js'
import publicProfile from './public-profile.js'
import signUp from './sign-up.js'

const account: FastifyPluginAsyncTypebox = async (app) => {
  tagRoutes(app, 'Accounts')
  useJsonErrors(app)
  await app.register(signUp)
  await app.register(publicProfile)
  await app.register(passwordReset)
  // Its own context: the bearer hook applies to these routes only.
  await app.register(me)
}

export default account
