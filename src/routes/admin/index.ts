// /admin/*: an access token with the admin role, JSON errors (docs/endpoints.md#admin-api).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { useJsonErrors } from '../../http/json-errors.js'
import bearer, { requireRole } from '../../plugins/bearer.js'
import keys from './keys.js'

const admin: FastifyPluginAsyncTypebox = async (app) => {
  useJsonErrors(app)
  await app.register(bearer)
  app.addHook('preHandler', requireRole('admin'))
  await app.register(keys)
}

export default admin
