// Security review, finding 7: a refresh or a revocation that only the browser's refresh-token
// cookie authenticates (a public cookie client, no token in the body) must come from the
// issuer's own origin or one of CORS_ORIGINS. SameSite=Strict keeps other sites' posts from
// carrying the cookie, but not another page of the same site (a sibling subdomain, a user
// page): the Origin header tells them apart. Requests whose token is in the body, or whose
// client proves itself with a secret, are not cookie-authenticated and are unaffected.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { makeClient, makeUser, post, token } from '../helpers/factories.js'

const APP_ORIGIN = 'https://app.example.com'

const cookieOf = (setCookie: string | string[] | undefined) =>
  [setCookie ?? []]
    .flat()
    .find((c) => c.startsWith('refresh_token='))
    ?.split(';')[0]
    ?.slice('refresh_token='.length)

eachLeg(t, async (t, leg) => {
  const { app } = await build(t, leg, { env: { CORS_ORIGINS: APP_ORIGIN } })
  const issuerOrigin = new URL(app.config.issuer).origin
  const spa = await makeClient(app, { public: true, cookieDelivery: true, grantTypes: ['password', 'refresh_token'] })
  const user = await makeUser(app)
  /** A fresh sign-in of the browser client: its refresh-token cookie. */
  const cookie = async () => {
    const res = await token(app, spa, { grant_type: 'password', username: user.email, password: user.password }, { origin: issuerOrigin })
    t.equal(res.statusCode, 200, 'signed in')
    return cookieOf(res.headers['set-cookie'])!
  }
  const refreshWith = (rt: string, headers: Record<string, string> = {}) =>
    token(app, spa, { grant_type: 'refresh_token' }, { cookie: `refresh_token=${rt}`, ...headers })
  const revokeWith = (rt: string, headers: Record<string, string> = {}) => post(app, '/revoke', spa, {}, { cookie: `refresh_token=${rt}`, ...headers })

  const foreign: [string, Record<string, string>][] = [
    ['no Origin', {}],
    ['another origin of the same site', { origin: 'https://evil.example.com' }],
    ['another port of the issuer', { origin: `${issuerOrigin.replace(/:\d+$/, '')}:8443` }],
    ['an opaque origin', { origin: 'null' }],
    ['the issuer with a path', { origin: `${issuerOrigin}/` }],
  ]

  t.test('a cookie-only refresh from a foreign origin: 403 forbidden, and nothing spent', async (t) => {
    const rt = await cookie()
    for (const [what, headers] of foreign) {
      const res = await refreshWith(rt, headers)
      t.equal(res.statusCode, 403, `${what}: 403`)
      t.equal(res.json().error, 'forbidden', `${what}: forbidden`)
      t.equal(res.headers['cache-control'], 'no-store')
      t.notOk(cookieOf(res.headers['set-cookie']), `${what}: no cookie set or cleared`)
    }
    const ok = await refreshWith(rt, { origin: issuerOrigin })
    t.equal(ok.statusCode, 200, "the issuer's origin refreshes, with the very cookie the refusals saw: none of them spent it")
    t.ok(cookieOf(ok.headers['set-cookie']), 'and gets its next cookie')
  })

  t.test('a CORS origin may refresh with the cookie', async (t) => {
    const res = await refreshWith(await cookie(), { origin: APP_ORIGIN })
    t.equal(res.statusCode, 200)
  })

  t.test('a cookie-only revoke from a foreign origin: 403, the session lives on and its cookie is kept', async (t) => {
    const rt = await cookie()
    for (const [what, headers] of foreign) {
      const res = await revokeWith(rt, headers)
      t.equal(res.statusCode, 403, `${what}: 403`)
      t.equal(res.json().error, 'forbidden')
      t.notOk(cookieOf(res.headers['set-cookie']), `${what}: the cookie is not cleared`)
    }
    t.equal((await revokeWith(rt, { origin: APP_ORIGIN })).statusCode, 200, 'a revoke from a CORS origin')
    t.equal((await refreshWith(rt, { origin: issuerOrigin })).json().error, 'invalid_grant', 'which did revoke the session')
    const other = await cookie()
    t.equal((await revokeWith(other, { origin: issuerOrigin })).statusCode, 200, "and one from the issuer's origin")
  })

  t.test('a token in the body is not cookie-authenticated: no Origin needed', async (t) => {
    const plain = await makeClient(app, { public: true, grantTypes: ['password', 'refresh_token'] })
    const first = await token(app, plain, { grant_type: 'password', username: user.email, password: user.password })
    const refreshed = await token(app, plain, { grant_type: 'refresh_token', refresh_token: first.json().refresh_token })
    t.equal(refreshed.statusCode, 200, 'a public client with the token in the body')
    t.equal((await post(app, '/revoke', plain, { token: refreshed.json().refresh_token })).statusCode, 200, 'and its revoke')
    // The cookie client itself, when its script sends the token it holds in the body.
    const rt = await cookie()
    const res = await token(app, spa, { grant_type: 'refresh_token', refresh_token: rt })
    t.equal(res.statusCode, 200, 'a cookie client that sends the token in the body')
  })

  t.test('a confidential cookie client proves itself with its secret: no Origin needed', async (t) => {
    const bff = await makeClient(app, { cookieDelivery: true, grantTypes: ['password', 'refresh_token'] })
    const signin = await token(app, bff, { grant_type: 'password', username: user.email, password: user.password })
    const rt = cookieOf(signin.headers['set-cookie'])!
    const refreshed = await token(app, bff, { grant_type: 'refresh_token' }, { cookie: `refresh_token=${rt}` })
    t.equal(refreshed.statusCode, 200)
    const next = cookieOf(refreshed.headers['set-cookie'])!
    t.equal((await post(app, '/revoke', bff, {}, { cookie: `refresh_token=${next}` })).statusCode, 200)
  })
})

t.test('without CORS_ORIGINS only the issuer origin may', async (t) => {
  const { app } = await build(t, 'pglite', { env: { ISSUER: 'https://id.example.com' } })
  const spa = await makeClient(app, { public: true, cookieDelivery: true, grantTypes: ['password', 'refresh_token'] })
  const user = await makeUser(app)
  const signin = await token(app, spa, { grant_type: 'password', username: user.email, password: user.password })
  const rt = cookieOf(signin.headers['set-cookie'])!
  t.equal((await token(app, spa, { grant_type: 'refresh_token' }, { cookie: `refresh_token=${rt}`, origin: APP_ORIGIN })).statusCode, 403)
  t.equal((await token(app, spa, { grant_type: 'refresh_token' }, { cookie: `refresh_token=${rt}`, origin: 'https://id.example.com' })).statusCode, 200)
})
