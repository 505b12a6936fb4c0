// Browser clients registered for cookie delivery get the refresh token in an HttpOnly cookie
// (docs/tokens.md#cookie-delivery).
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { makeClient, makeUser, post, token } from '../helpers/factories.js'

const cookieValue = (setCookie: string | string[] | undefined) => {
  const line = [setCookie ?? []].flat().find((c) => c.startsWith('refresh_token='))
  return { line, value: line?.split(';')[0]?.slice('refresh_token='.length) }
}

eachLeg(t, async (t, leg) => {
  const { app } = await build(t, leg, { env: { REFRESH_TOKEN_TTL: '2h' } })
  const spa = await makeClient(app, { public: true, cookieDelivery: true, grantTypes: ['password', 'refresh_token'] })
  const user = await makeUser(app)

  t.test('sign-in sets the cookie instead of a body refresh_token', async (t) => {
    const res = await token(app, spa, { grant_type: 'password', username: user.email, password: user.password })
    t.equal(res.statusCode, 200)
    t.notOk('refresh_token' in res.json())
    const { line, value } = cookieValue(res.headers['set-cookie'])
    t.ok(value)
    // The time left on the token: the idle lifetime, less a second if the clock ticked meanwhile.
    t.match(line, /; Max-Age=(7200|7199)(;|$)/)
    t.match(line, /; Path=\//)
    t.match(line, /; HttpOnly/)
    t.match(line, /; SameSite=Strict/)
    t.notMatch(line, /Secure/, 'not Secure on an http issuer')
  })

  t.test('refresh and revoke read the cookie when the body has no token', async (t) => {
    const first = cookieValue((await token(app, spa, { grant_type: 'password', username: user.email, password: user.password })).headers['set-cookie']).value!
    // From a page of the issuer's origin, as the browser says (test/security/cookie-origin.test.ts).
    const origin = new URL(app.config.issuer).origin
    const refreshed = await token(app, spa, { grant_type: 'refresh_token' }, { cookie: `refresh_token=${first}`, origin })
    t.equal(refreshed.statusCode, 200)
    const second = cookieValue(refreshed.headers['set-cookie']).value!
    t.not(second, first, 'rotated')
    t.notOk('refresh_token' in refreshed.json())
    const revoked = await post(app, '/revoke', spa, {}, { cookie: `refresh_token=${second}`, origin })
    t.equal(revoked.statusCode, 200)
    t.match(cookieValue(revoked.headers['set-cookie']).line, /Expires=Thu, 01 Jan 1970|Max-Age=0/, 'the cookie is cleared')
    const after = await token(app, spa, { grant_type: 'refresh_token' }, { cookie: `refresh_token=${second}`, origin })
    t.equal(after.json().error, 'invalid_grant')
  })

  t.test('a non-cookie client never reads the cookie', async (t) => {
    const plain = await makeClient(app, { public: true, grantTypes: ['password', 'refresh_token'] })
    const s = await token(app, plain, { grant_type: 'password', username: user.email, password: user.password })
    const res = await token(app, plain, { grant_type: 'refresh_token' }, { cookie: `refresh_token=${s.json().refresh_token}` })
    t.equal(res.json().error, 'invalid_request')
  })
})

t.test('Secure cookie when the issuer is https', async (t) => {
  const { app } = await build(t, 'pglite', { env: { ISSUER: 'https://id.example.com' } })
  const spa = await makeClient(app, { public: true, cookieDelivery: true, grantTypes: ['password', 'refresh_token'] })
  const user = await makeUser(app)
  const res = await token(app, spa, { grant_type: 'password', username: user.email, password: user.password })
  t.match(cookieValue(res.headers['set-cookie']).line, /; Secure/)
})
