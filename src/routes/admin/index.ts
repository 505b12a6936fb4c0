// /admin/*: the admin API (docs/endpoints.md#admin-api), for enabled admins holding a token
// of its own audience and scope; JSON errors.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { useJsonErrors } from '../../http/json-errors.js'
import bearer, { requireAdmin } from '../../plugins/bearer.js'
import { tagRoutes } from '../../plugins/docs.js'
import audit from './audit.js'
import clients from './clients.js'
import keys from './keys.js'
import users from './users.js'

const admin: FastifyPluginAsyncTypebox = async (app) => {
  tagRoutes(app, 'Admin')
  useJsonErrors(app)
  await app.register(bearer)
  // Before validation: a caller who is not an admin learns nothing from a 400.
  app.addHook('preValidation', requireAdmin(app))
  await app.register(users)
  await app.register(clients)
  await app.register(keys)
  await app.register(audit)
}

export default admin
