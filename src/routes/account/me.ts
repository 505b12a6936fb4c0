// The caller's own account (bearer): GET /me and /userinfo, PATCH /me (fillable fields only),
// POST /me/password, and the sessions, one per device (docs/endpoints.md#me).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { userView } from '../../accounts/accounts.js'
import { changePassword } from '../../accounts/password-change.js'
import { listSessions, signOut, signOutAll } from '../../accounts/sessions.js'
import { requestMeta } from '../../http/request-meta.js'
import { Forbidden, NotFound } from '../../oauth/errors.js'
import bearer from '../../plugins/bearer.js'
import { withErrors } from '../../schemas/errors.js'
import { PasswordChangeBody, ProfilePatch, ProfileView, SessionView, UserInfo } from '../../schemas/users.js'

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
  const deps = {
    users: stores.users,
    families: stores.families,
    lockouts: stores.lockouts,
    sessions: stores.browserSessions,
    check: app.passwordCheck,
    audit,
    clock,
  }

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
  // OpenID Connect Core §5.3: for a token with `openid`, the claims its scope allows (§5.4);
  // for any other token, the profile, as /me gives it.
  app.get('/userinfo', { schema: { security, response: withErrors({ 200: Type.Union([UserInfo, ProfileView]) }) } }, async (req) => {
    const scopes = (req.token.scope ?? '').split(' ')
    if (!scopes.includes('openid')) return profile(req)
    const user = await owner(req)
    return {
      sub: user.id,
      ...(scopes.includes('email') ? { email: user.email, email_verified: false } : {}),
      ...(scopes.includes('profile') && user.name ? { name: user.name } : {}),
    }
  })
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

  // The applications the user let in (docs/pages.md#consent), and taking that back: the consent
  // goes, and so does every session the user has with that application.
  const ConsentView = Type.Object({
    client_id: Type.String(),
    client_name: Type.Union([Type.String(), Type.Null()]),
    scope: Type.String(),
    created_at: Type.String(),
  })
  app.get('/me/consents', { schema: { security, response: withErrors({ 200: Type.Object({ consents: Type.Array(ConsentView) }) }) } }, async (req) => {
    const user = await owner(req)
    const rows = await stores.consents.list(user.id)
    const names = new Map(
      await Promise.all([...new Set(rows.map((r) => r.clientId))].map(async (id) => [id, (await stores.clients.findById(id))?.name ?? null] as const)),
    )
    return {
      consents: rows.map((r) => ({ client_id: r.clientId, client_name: names.get(r.clientId) ?? null, scope: r.scope, created_at: r.createdAt.toISOString() })),
    }
  })

  app.delete(
    '/me/consents/:client_id',
    {
      schema: {
        security,
        params: Type.Object({ client_id: Type.String({ maxLength: 200 }) }),
        response: withErrors({ 200: Type.Object({ signed_out_sessions: Type.Integer() }) }),
      },
    },
    async (req) => {
      const user = await owner(req)
      if ((await stores.consents.withdraw(user.id, req.params.client_id)) === 0) throw new NotFound('No consent to this client.')
      const now = new Date(clock.now())
      const revoked = await stores.families.revokeAllOfUserAndClient(user.id, req.params.client_id, 'consent_withdrawn', now)
      const who = { actorId: user.id, subjectId: user.id, clientId: req.params.client_id, ...requestMeta(req) }
      await audit.record({ type: 'consent.withdrawn', ...who })
      await audit.familiesRevoked(revoked, 'consent_withdrawn', who)
      return { signed_out_sessions: revoked.length }
    },
  )

  app.delete('/me/sessions', { schema: { security, response: withErrors({ 200: Type.Object({ signed_out_sessions: Type.Integer() }) }) } }, async (req) => ({
    signed_out_sessions: await signOutAll(deps, { userId: (await owner(req)).id, clientId: req.token.client_id, meta: requestMeta(req) }),
  }))
}

export default me
