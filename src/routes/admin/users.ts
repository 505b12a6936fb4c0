// /admin/users (docs/endpoints.md#admin-users): list, one user, and changes to one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { changeUser, findUser, listUsers, viewUser } from '../../accounts/admin.js'
import { requestMeta } from '../../http/request-meta.js'
import { AdminUserView, IdParams, limitOf, page, UserPatch, UserQuery } from '../../schemas/admin.js'
import { withErrors } from '../../schemas/errors.js'

const users: FastifyPluginAsyncTypebox = async (app) => {
  const { stores, audit, clock } = app
  const deps = { users: stores.users, families: stores.families, lockouts: stores.lockouts, sessions: stores.browserSessions, audit, clock }
  const security = [{ bearer: [] }]

  app.get('/users', { schema: { security, querystring: UserQuery, response: withErrors({ 200: page(AdminUserView) }) } }, async (req) => {
    const q = req.query
    return listUsers(deps, {
      email: q.email,
      role: q.role,
      disabled: q.disabled === undefined ? undefined : q.disabled === 'true',
      cursor: q.cursor,
      limit: limitOf(q),
    })
  })

  app.get('/users/:id', { schema: { security, params: IdParams, response: withErrors({ 200: AdminUserView }) } }, async (req) =>
    viewUser(deps, await findUser(deps, req.params.id)),
  )

  app.patch('/users/:id', { schema: { security, params: IdParams, body: UserPatch, response: withErrors({ 200: AdminUserView }) } }, async (req) => {
    return changeUser(deps, req.params.id, req.body, { userId: req.token.sub, meta: requestMeta(req), via: 'api' })
  })
}

export default users
