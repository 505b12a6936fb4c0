// Security review, finding 8: the caller's own account is personal data. Every answer of
// /me, /userinfo and the other /me… routes, errors included, carries Cache-Control: no-store,
// so that no browser cache or shared proxy keeps a copy (RFC 9111 §5.2.2.5).
import type { InjectOptions } from 'fastify'
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { makeClient, makeUser, signIn } from '../helpers/factories.js'

eachLeg(t, async (t, leg) => {
  const { app } = await build(t, leg)
  const client = await makeClient(app)

  t.test('every /me… answer says no-store', async (t) => {
    const user = await makeUser(app)
    const { access_token } = await signIn(app, client, user)
    const other = await signIn(app, client, user)
    const auth = { authorization: `Bearer ${access_token}` }
    const json = { ...auth, 'content-type': 'application/json' }
    const sid = (await app.inject({ url: '/me/sessions', headers: auth })).json().sessions.find((s: { current: boolean }) => !s.current).id as string
    const requests: [string, InjectOptions, number][] = [
      ['GET /me', { url: '/me', headers: auth }, 200],
      ['HEAD /me', { method: 'HEAD', url: '/me', headers: auth }, 200],
      ['GET /userinfo', { url: '/userinfo', headers: auth }, 200],
      ['PATCH /me', { method: 'PATCH', url: '/me', headers: json, payload: { name: 'Ada' } }, 200],
      ['GET /me/sessions', { url: '/me/sessions', headers: auth }, 200],
      [
        'POST /me/password, wrong current password',
        { method: 'POST', url: '/me/password', headers: json, payload: { current_password: 'nope', new_password: 'a brand new passphrase' } },
        400,
      ],
      ['DELETE /me/sessions/{id}', { method: 'DELETE', url: `/me/sessions/${sid}`, headers: auth }, 204],
      ['GET /me without a token', { url: '/me' }, 401],
      ['GET /userinfo with a bad token', { url: '/userinfo', headers: { authorization: 'Bearer nope' } }, 401],
      [
        'POST /me/password',
        { method: 'POST', url: '/me/password', headers: json, payload: { current_password: user.password, new_password: 'a brand new passphrase' } },
        200,
      ],
      ['DELETE /me/sessions', { method: 'DELETE', url: '/me/sessions', headers: auth }, 200],
    ]
    for (const [what, req, status] of requests) {
      const res = await app.inject(req)
      t.equal(res.statusCode, status, `${what}: ${status}`)
      t.equal(res.headers['cache-control'], 'no-store', `${what}: Cache-Control: no-store`)
    }
    t.ok(other.access_token, 'a second session existed to sign out')
  })

  t.test('public routes are not affected', async (t) => {
    t.match((await app.inject('/.well-known/jwks.json')).headers['cache-control'], /^public, max-age=\d+/, 'the JWKS stays cacheable')
  })
})
