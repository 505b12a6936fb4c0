// Accounts: sign-up (public) and the caller's own profile (bearer), with JSON errors.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { useJsonErrors } from '../../http/json-errors.js'
import profile from './profile.js'
import signUp from './sign-up.js'

const account: FastifyPluginAsyncTypebox = async (app) => {
  useJsonErrors(app)
  await app.register(signUp)
  await app.register(profile)
}

export default account
