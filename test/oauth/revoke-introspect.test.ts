// POST /revoke (RFC 7009) and POST /introspect (RFC 7662).
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { decode, makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app, db } = await build(t, leg, { clock })
  const client = await makeClient(app)
  const user = await makeUser(app)
  const introspect = async (tok: string) => (await post(app, '/introspect', client, { token: tok })).json()

  t.test('introspection of live tokens returns their claims', async (t) => {
    const s = await signIn(app, client, user, { scope: 'read' })
    const at = await introspect(s.access_token)
    t.match(at, {
      active: true,
      token_type: 'Bearer',
      token_use: 'access_token',
      scope: 'read',
      client_id: client.id,
      sub: user.id,
      aud: 'api',
      roles: ['user'],
    })
    t.equal(at.jti, decode(s.access_token).payload.jti)
    const rt = await introspect(s.refresh_token!)
    t.match(rt, { active: true, token_use: 'refresh_token', sub: user.id, sid: decode(s.refresh_token!).payload.sid })
    const cc = await introspect((await token(app, client, { grant_type: 'client_credentials' })).json().access_token)
    t.match(cc, { active: true, sub: client.id })
  })

  t.test('inactive: garbage, spent, expired', async (t) => {
    t.same(await introspect('garbage'), { active: false })
    const s = await signIn(app, client, user)
    await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
    t.same(await introspect(s.refresh_token!), { active: false }, 'a spent refresh token')
    t.equal((await introspect(s.access_token)).active, true, 'its access token lives on')
    clock.advance(900 + 31)
    t.same(await introspect(s.access_token), { active: false }, 'an expired access token')
  })

  t.test('revoking an access token denies its jti until it expires, and only that token', async (t) => {
    const s = await signIn(app, client, user)
    const other = await signIn(app, client, user)
    const res = await post(app, '/revoke', client, { token: s.access_token, token_type_hint: 'access_token' })
    t.equal(res.statusCode, 200)
    t.equal(res.body, '')
    t.same(await introspect(s.access_token), { active: false })
    t.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${s.access_token}` } })).statusCode, 401)
    t.equal((await introspect(other.access_token)).active, true)
    t.equal((await introspect(s.refresh_token!)).active, true, 'the family lives on')
    const [row] = await db.query<{ expires_at: Date }>('SELECT expires_at FROM revoked_tokens WHERE jti = $1', [decode(s.access_token).payload.jti])
    t.equal(row!.expires_at.getTime(), decode(s.access_token).payload.exp * 1000, 'kept only until the token expires')
    const removed = await app.stores.revocations.purgeExpired(new Date(clock.now() + 901 * 1000), 1000)
    t.ok(removed >= 1, 'expired denials can be purged')
  })

  t.test('revoking a refresh token revokes the family and its access tokens', async (t) => {
    const s = await signIn(app, client, user)
    const r = (await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })).json()
    const res = await post(app, '/revoke', client, { token: r.refresh_token })
    t.equal(res.statusCode, 200)
    for (const tok of [s.access_token, r.access_token, r.refresh_token]) t.same(await introspect(tok), { active: false })
    t.equal((await token(app, client, { grant_type: 'refresh_token', refresh_token: r.refresh_token })).json().error, 'invalid_grant')
    const audit = await db.query("SELECT type FROM audit_events WHERE type = 'family.revoked' AND details->>'sid' = $1", [decode(s.refresh_token!).payload.sid])
    t.equal(audit.length, 1)
  })

  t.test('RFC 7009 §2.2: unknown or invalid tokens still get 200; a missing token is invalid_request', async (t) => {
    t.equal((await post(app, '/revoke', client, { token: 'not-a-token' })).statusCode, 200)
    t.equal((await post(app, '/revoke', client, { token: 'a.b.c', token_type_hint: 'refresh_token' })).statusCode, 200)
    const missing = await post(app, '/revoke', client, {})
    t.equal(missing.statusCode, 400)
    t.equal(missing.json().error, 'invalid_request')
  })

  t.test('a client revokes only its own tokens', async (t) => {
    const other = await makeClient(app)
    const s = await signIn(app, client, user)
    const res = await post(app, '/revoke', other, { token: s.refresh_token! })
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'unauthorized_client')
    t.equal((await introspect(s.refresh_token!)).active, true, 'nothing was revoked')
  })

  t.test('revoke and introspect need client authentication; introspect needs a confidential client', async (t) => {
    const anon = await app.inject({ method: 'POST', url: '/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' })
    t.equal(anon.statusCode, 401)
    t.equal(anon.json().error, 'invalid_client')
    const pub = await makeClient(app, { public: true, grantTypes: ['password', 'refresh_token'] })
    const res = await post(app, '/introspect', pub, { token: 'x' })
    t.equal(res.statusCode, 401)
    t.equal(res.json().error, 'invalid_client')
    const s = await signIn(app, pub, user)
    t.equal((await post(app, '/revoke', pub, { token: s.refresh_token! })).statusCode, 200, 'public clients may revoke their own tokens')
    t.same(await introspect(s.refresh_token!), { active: false })
  })
})
