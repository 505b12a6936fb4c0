// The caller's own account (docs/endpoints.md#me): PATCH /me takes fillable fields only, public
// profiles show id and name only, sessions are families and one user never sees another's,
// and a password change keeps the session that asked and signs out every other.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { decode, makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'

eachLeg(t, async (t, leg) => {
  const { app, db } = await build(t, leg)
  const client = await makeClient(app)
  const as = (bearer: string) => ({ authorization: `Bearer ${bearer}` })

  t.test('PATCH /me changes the name, and nothing else, ever', async (t) => {
    const user = await makeUser(app)
    const { access_token: at } = await signIn(app, client, user)
    const ok = await app.inject({ method: 'PATCH', url: '/me', headers: as(at), payload: { name: '  Ada Lovelace ' } })
    t.equal(ok.statusCode, 200)
    t.match(ok.json(), { sub: user.id, id: user.id, email: user.email, name: 'Ada Lovelace', role: 'user' })
    t.equal((await app.inject({ url: '/me', headers: as(at) })).json().name, 'Ada Lovelace', 'stored')
    t.equal((await app.inject({ method: 'PATCH', url: '/me', headers: as(at), payload: { name: null } })).json().name, null, 'null clears it')

    const before = (await db.query('SELECT email, role, password_hash, name, disabled_at FROM users WHERE id = $1', [user.id]))[0]
    const attempts: [string, string][] = [
      ['role', '{"role": "admin"}'],
      ['email', '{"email": "other@example.com"}'],
      ['password', '{"password": "new password here"}'],
      ['id', `{"id": "00000000-0000-0000-0000-000000000000"}`],
      ['__proto__', '{"__proto__": {"role": "admin"}}'],
      ['constructor', '{"constructor": {"prototype": {"role": "admin"}}}'],
      ['role', '{"name": "Mallory", "role": "admin"}'],
      ['disabled_at', '{"name": "Mallory", "disabled_at": null}'],
    ]
    for (const [field, body] of attempts) {
      const res = await app.inject({ method: 'PATCH', url: '/me', headers: { ...as(at), 'content-type': 'application/json' }, payload: body })
      t.equal(res.statusCode, 400, `${body}: 400`)
      t.equal(res.json().error, 'invalid_request')
      t.match(res.json().error_description, `Unknown field "${field}"`, `${body}: names ${field}`)
    }
    t.same((await db.query('SELECT email, role, password_hash, name, disabled_at FROM users WHERE id = $1', [user.id]))[0], before, 'nothing changed')
    t.same(decode((await signIn(app, client, user)).access_token).payload.roles, ['user'], 'and no token says otherwise')

    const bad: [string, object | string, string][] = [
      ['an empty body', {}, 'application/json'],
      ['a name that is not a string', { name: 42 }, 'application/json'],
      ['an empty name', { name: '' }, 'application/json'],
      ['a name over 200 characters', { name: 'x'.repeat(201) }, 'application/json'],
      ['not JSON', '{"name":', 'application/json'],
    ]
    for (const [what, payload, type] of bad) {
      const res = await app.inject({ method: 'PATCH', url: '/me', headers: { ...as(at), 'content-type': type }, payload: payload as string })
      t.equal(res.statusCode, 400, what)
      t.equal(res.json().error, 'invalid_request', what)
    }
    const form = await app.inject({
      method: 'PATCH',
      url: '/me',
      headers: { ...as(at), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=Eve',
    })
    t.equal(form.statusCode, 415, 'a form body on a JSON route')
    t.same(form.json(), { error: 'invalid_request', error_description: 'Unsupported Content-Type; send application/json.' })
    t.equal((await app.inject({ method: 'PATCH', url: '/me', payload: { name: 'x' } })).statusCode, 401, 'no token')
  })

  t.test('GET /users/{id}/public: exactly id and name; anything else is a 404', async (t) => {
    const user = await makeUser(app)
    const { access_token: at } = await signIn(app, client, user)
    await app.inject({ method: 'PATCH', url: '/me', headers: as(at), payload: { name: 'Grace' } })
    const res = await app.inject(`/users/${user.id}/public`)
    t.equal(res.statusCode, 200)
    t.same(res.json(), { id: user.id, name: 'Grace' }, 'no email, no role, no hash')
    for (const id of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid', `${user.id}x`, "'; DROP TABLE users; --"]) {
      const r = await app.inject(`/users/${encodeURIComponent(id)}/public`)
      t.equal(r.statusCode, 404, id)
      t.same(r.json(), { error: 'not_found', error_description: 'No such user.' })
    }
  })

  t.test('sessions: a user sees and ends only their own', async (t) => {
    const alice = await makeUser(app)
    const bob = await makeUser(app)
    const phone = await signIn(app, client, alice, {})
    const laptop = (await token(app, client, { grant_type: 'password', username: alice.email, password: alice.password }, { 'user-agent': 'laptop/2' })).json()
    const bobs = await signIn(app, client, bob)
    const sid = (s: { access_token: string }) => decode(s.access_token).payload.sid as string

    const list = await app.inject({ url: '/me/sessions', headers: as(laptop.access_token) })
    t.equal(list.statusCode, 200)
    const sessions = list.json().sessions as { id: string; current: boolean; user_agent: string; client_id: string }[]
    t.same(sessions.map((s) => s.id).sort(), [sid(phone), sid(laptop)].sort(), "Alice's two sessions, not Bob's")
    t.same(
      sessions.map((s) => s.current),
      sessions.map((s) => s.id === sid(laptop)),
      'current marks the session of the token presented',
    )
    t.match(
      sessions.find((s) => s.id === sid(laptop)),
      { user_agent: 'laptop/2', client_id: client.id, ip: '127.0.0.1' },
    )
    t.same(Object.keys(sessions[0]!).sort(), ['client_id', 'created_at', 'current', 'id', 'ip', 'last_used_at', 'user_agent'])

    const probe = await app.inject({ method: 'DELETE', url: `/me/sessions/${sid(bobs)}`, headers: as(laptop.access_token) })
    t.equal(probe.statusCode, 404, "another user's session is not found, so ids cannot be probed")
    t.equal((await app.inject({ url: '/me', headers: as(bobs.access_token) })).statusCode, 200, "and Bob's session lives on")
    t.equal((await app.inject({ method: 'DELETE', url: '/me/sessions/not-an-id', headers: as(laptop.access_token) })).statusCode, 404)

    const out = await app.inject({ method: 'DELETE', url: `/me/sessions/${sid(phone)}`, headers: as(laptop.access_token) })
    t.equal(out.statusCode, 204, 'the phone is signed out')
    t.equal((await app.inject({ url: '/me', headers: as(phone.access_token) })).statusCode, 401, "the phone's access token is dead")
    t.equal(
      (await token(app, client, { grant_type: 'refresh_token', refresh_token: phone.refresh_token! })).json().error,
      'invalid_grant',
      'and so is its refresh token',
    )
    t.equal((await app.inject({ method: 'DELETE', url: `/me/sessions/${sid(phone)}`, headers: as(laptop.access_token) })).statusCode, 404, 'twice: gone')
    t.equal((await app.inject({ url: '/me', headers: as(laptop.access_token) })).statusCode, 200, 'the laptop stays signed in')

    const all = await app.inject({ method: 'DELETE', url: '/me/sessions', headers: as(laptop.access_token) })
    t.same(all.json(), { signed_out_sessions: 1 })
    t.equal((await app.inject({ url: '/me', headers: as(laptop.access_token) })).statusCode, 401, 'every session, the current one included')
    t.equal((await app.inject({ url: '/me', headers: as(bobs.access_token) })).statusCode, 200, 'Bob is untouched')
  })

  t.test('POST /me/password: the current password first; this session stays, every other ends', async (t) => {
    const user = await makeUser(app, { password: 'the old password' })
    const here = await signIn(app, client, user)
    const elsewhere = await signIn(app, client, user)
    const change = (payload: object) => app.inject({ method: 'POST', url: '/me/password', headers: as(here.access_token), payload })

    const wrong = await change({ current_password: 'not it at all', new_password: 'the new password' })
    t.equal(wrong.statusCode, 400)
    t.same(wrong.json(), { error: 'invalid_request', error_description: 'current_password is not the current password.' })
    const [failed] = await db.query<{ details: { via: string } }>("SELECT details FROM audit_events WHERE type = 'signin.failed' AND subject_id = $1", [
      user.id,
    ])
    t.same(failed?.details, { via: 'password_change' }, 'a wrong current password counts as a failed password check')
    t.equal((await change({ current_password: 'the old password', new_password: 'short' })).statusCode, 400, 'the new one meets the rules')
    t.equal((await change({ current_password: 'the old password' })).statusCode, 400, 'both are needed')

    const ok = await change({ current_password: 'the old password', new_password: 'the new password' })
    t.equal(ok.statusCode, 200)
    t.same(ok.json(), { signed_out_sessions: 1 })
    t.equal((await app.inject({ url: '/me', headers: as(here.access_token) })).statusCode, 200, 'this session stays')
    t.equal((await token(app, client, { grant_type: 'refresh_token', refresh_token: here.refresh_token! })).statusCode, 200, 'and refreshes')
    t.equal((await app.inject({ url: '/me', headers: as(elsewhere.access_token) })).statusCode, 401, 'the other is signed out')
    const old = await token(app, client, { grant_type: 'password', username: user.email, password: 'the old password' })
    t.equal(old.json().error, 'invalid_grant', 'the old password no longer signs in')
    t.ok((await signIn(app, client, user.email ? { email: user.email, password: 'the new password' } : user)).access_token, 'the new one does')
    const cc = (await token(app, client, { grant_type: 'client_credentials' })).json().access_token
    const res = await app.inject({ method: 'POST', url: '/me/password', headers: as(cc), payload: { current_password: 'x', new_password: 'whatever it is' } })
    t.equal(res.statusCode, 403, "a client's token has no account to change")
  })

  t.test("a disabled user's tokens are refused on every bearer route", async (t) => {
    const user = await makeUser(app)
    const s = await signIn(app, client, user)
    await app.stores.users.setDisabled(user.id, new Date())
    for (const [method, url] of [
      ['GET', '/me'],
      ['GET', '/userinfo'],
      ['PATCH', '/me'],
      ['GET', '/me/sessions'],
      ['DELETE', '/me/sessions'],
      ['POST', '/me/password'],
    ] as const) {
      const payload = method === 'PATCH' ? { name: 'x' } : method === 'POST' ? { current_password: user.password, new_password: 'whatever it is' } : undefined
      const res = await app.inject({ method, url, headers: as(s.access_token), ...(payload ? { payload } : {}) })
      t.equal(res.statusCode, 401, `${method} ${url}`)
      t.match(res.headers['www-authenticate'], /error="invalid_token"/)
    }
    t.same(
      (await post(app, '/introspect', client, { token: s.access_token })).json(),
      { active: false },
      'and inactive at /introspect, even before its families are revoked',
    )
  })
})
