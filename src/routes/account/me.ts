// The caller's own account (bearer): GET /me and /userinfo, PATCH /me (fillable fields only),
// POST /me/password, and the sessions, one per device (docs/endpoints.md#me).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { userView } from '../../accounts/accounts.js'
import { changePassword } from '../../accounts/password-change.js'
import { listSessions, signOut, signOutAll } from '../../accounts/sessions.js'
import { requestMeta } from '../../http/request-meta.js'
import { Forbidden } from '../../oauth/errors.js'
import bearer from '../../plugins/bearer.js'
import { withErrors } from '../../schemas/errors.js'
import { PasswordChangeBody, ProfilePatch, ProfileView, SessionView } from '../../schemas/users.js'

const me: FastifyPluginAsyncTypebox = async (app) => {
  // Personal data: no browser or shared cache keeps any of these answers, errors included
  // (RFC 9111 §5.2.2.5). Added before the bearer hook, so that its 401s carry it too.
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('cache-control', 'no-store')
    done(null, payload)
  })
  await app.register(bearer)
  const { stores, audit, clock } = app
  const security = [{ bearer: [] }]
  const deps = { users: stores.users, families: stores.families, lockouts: stores.lockouts, check: app.passwordCheck, audit, clock }

  /** The account the token speaks for: a token of a client (client_credentials) has none. */
  const owner = async (req: { token: { sub: string } }) => {
    const user = await stores.users.findById(req.token.sub)
    if (!user || user.disabledAt) throw new Forbidden('This token does not belong to an active user.')
    return user
  }
  const profile = async (req: { token: { sub: string } }) => {
    const user = await owner(req)
    return { sub: user.id, ...userView(user) }
  }
  const view = { security, response: withErrors({ 200: ProfileView }) }
  app.get('/userinfo', { schema: view }, profile)
  app.get('/me', { schema: view }, profile)

  app.patch('/me', { schema: { ...view, body: ProfilePatch } }, async (req) => {
    const { name } = req.body
    const user = await stores.users.setProfile((await owner(req)).id, { name: name === null || name === undefined ? null : name.trim() })
    if (!user) throw new Forbidden('This token does not belong to an active user.')
    return { sub: user.id, ...userView(user) }
  })

  app.post(
    '/me/password',
    { schema: { security, body: PasswordChangeBody, response: withErrors({ 200: Type.Object({ signed_out_sessions: Type.Integer() }) }) } },
    async (req) => {
      const { signedOut } = await changePassword(deps, {
        userId: (await owner(req)).id,
        sid: req.token.sid,
        clientId: req.token.client_id,
        current: req.body.current_password,
        next: req.body.new_password,
        meta: requestMeta(req),
      })
      return { signed_out_sessions: signedOut }
    },
  )

  app.get('/me/sessions', { schema: { security, response: withErrors({ 200: Type.Object({ sessions: Type.Array(SessionView) }) }) } }, async (req) => ({
    sessions: await listSessions(deps, (await owner(req)).id, req.token.sid),
  }))

  app.delete(
    '/me/sessions/:id',
    {
      schema: {
        security,
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: withErrors({ 204: Type.Unsafe<undefined>({ description: 'Signed out.' }) }),
      },
    },
    async (req, reply) => {
      await signOut(deps, { userId: (await owner(req)).id, sid: req.params.id, clientId: req.token.client_id, meta: requestMeta(req) })
      return reply.code(204).send(undefined)
    },
  )

  app.delete('/me/sessions', { schema: { security, response: withErrors({ 200: Type.Object({ signed_out_sessions: Type.Integer() }) }) } }, async (req) => ({
    signed_out_sessions: await signOutAll(deps, { userId: (await owner(req)).id, clientId: req.token.client_id, meta: requestMeta(req) }),
  }))
}

export default me
