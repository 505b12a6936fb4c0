// POST /users (sign-up), GET /userinfo and GET /me.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { makeClient, signIn, token } from '../helpers/factories.js'

const signUp = (app: Parameters<typeof token>[0], payload: unknown) => app.inject({ method: 'POST', url: '/users', payload: payload as object })

eachLeg(t, async (t, leg) => {
  const { app, db } = await build(t, leg)

  t.test('sign-up: 201 with the public profile; email trimmed and lower-cased; password hashed', async (t) => {
    const res = await signUp(app, { email: '  Ada@Example.COM ', password: 'analytical engine', name: ' Ada ' })
    t.equal(res.statusCode, 201)
    const body = res.json()
    t.same(Object.keys(body).sort(), ['created_at', 'email', 'id', 'name', 'role'])
    t.match(body, { email: 'ada@example.com', name: 'Ada', role: 'user' })
    t.match(body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const [row] = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [body.id])
    t.match(row!.password_hash, /^\$argon2id\$/)
    const again = await signUp(app, { email: 'ADA@example.com', password: 'another password' })
    t.equal(again.statusCode, 409)
    t.same(again.json(), { error: 'conflict', error_description: 'An account with this email already exists.' })
  })

  t.test('the new account signs in, and /me and /userinfo show it', async (t) => {
    await signUp(app, { email: 'grace@example.com', password: 'cobol forever' })
    const client = await makeClient(app)
    const s = await signIn(app, client, { email: 'grace@example.com', password: 'cobol forever' })
    const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${s.access_token}` } })
    t.equal(me.statusCode, 200, '/me')
    t.match(me.json(), { email: 'grace@example.com', role: 'user', name: null })
    t.equal(me.json().sub, me.json().id)
    t.notOk('password_hash' in me.json() || 'passwordHash' in me.json())
    // The token's scope is `openid profile read write`: /userinfo gives the OpenID claims it allows (no email).
    const info = await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${s.access_token}` } })
    t.equal(info.statusCode, 200, '/userinfo')
    t.same(info.json(), { sub: me.json().id }, '/userinfo: sub; no name claim for a user without one (OpenID Connect Core §5.3.2)')
    const cc = (await token(app, client, { grant_type: 'client_credentials' })).json().access_token
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${cc}` } })
    t.equal(res.statusCode, 403, 'a client token has no user profile')
  })

  t.test('bad sign-ups: 400 invalid_request, nothing stored', async (t) => {
    const before = (await db.query('SELECT id FROM users')).length
    const cases: [string, unknown, number][] = [
      ['no body', undefined, 400],
      ['missing password', { email: 'a@example.com' }, 400],
      ['short password', { email: 'a@example.com', password: 'short' }, 400],
      ['password too long', { email: 'a@example.com', password: 'x'.repeat(257) }, 400],
      ['not an email', { email: 'not-an-email', password: 'long enough' }, 400],
      ['email with a space', { email: 'a b@example.com', password: 'long enough' }, 400],
      ['email too long', { email: `${'a'.repeat(250)}@example.com`, password: 'long enough' }, 400],
      ['unknown field', { email: 'a@example.com', password: 'long enough', role: 'admin' }, 400],
      ['wrong type', { email: 'a@example.com', password: 12345678 }, 400],
      ['NUL in the email', { email: 'a\u0000b@example.com', password: 'long enough' }, 400],
      ['NUL in the name', { email: 'nul@example.com', password: 'long enough', name: 'x\u0000' }, 400],
    ]
    for (const [name, payload, status] of cases) {
      const res = await signUp(app, payload)
      t.equal(res.statusCode, status, name)
      t.equal(res.json().error, 'invalid_request', name)
      t.type(res.json().error_description, 'string', name)
    }
    const role = await signUp(app, { email: 'b@example.com', password: 'long enough', role: 'admin' })
    t.match(role.json().error_description, /Unknown field "role"/, 'the unknown field is named, never applied')
    t.equal((await db.query('SELECT id FROM users')).length, before)
  })

  t.test('passwords count characters, not bytes: 8 emoji are a valid password', async (t) => {
    const res = await signUp(app, { email: 'emoji@example.com', password: '🔐🔐🔐🔐🔐🔐🔐🔐' })
    t.equal(res.statusCode, 201)
  })
})

t.test('REGISTRATION=closed refuses sign-up', async (t) => {
  const { app } = await build(t, 'pglite', { env: { REGISTRATION: 'closed' } })
  const res = await signUp(app, { email: 'x@example.com', password: 'long enough' })
  t.equal(res.statusCode, 403)
  t.equal(res.json().error, 'forbidden')
})
