// The browser session of Tessera's pages (docs/pages.md#session, #pages, #consent, #logout):
// the sign-in page's lockout and the device cookie that keeps it from locking out the owner's own
// browser; the session ending with /logout (and the families started from it), a password
// change or reset, and an admin's disable; consents listed and withdrawn.
import t from 'tap'
import { randomSecret, sha256 } from '../../src/lib/secrets.js'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { adminToken, makeAdminConsole, makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'
import { authorizeUrl, PageBrowser, pageOf, pkce, redirectParams } from '../helpers/pages.js'

const REDIRECT = 'https://photos.example.org/callback'
const THRESHOLD = 3

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app } = await build(t, leg, { clock, env: { LOCKOUT_THRESHOLD: String(THRESHOLD), LOCKOUT_WINDOW: '10m', LOCKOUT_DURATION: '10m' } })
  const thirdParty = await makeClient(app, {
    name: 'Photo Book',
    public: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'email'],
    redirectUris: [REDIRECT],
  })
  // Its own app: no consent, so prompt=none tells exactly whether the browser is signed in.
  const own = await makeClient(app, {
    name: 'own',
    public: true,
    firstParty: true,
    grantTypes: ['authorization_code'],
    scopes: ['openid'],
    redirectUris: [REDIRECT],
  })
  const direct = await makeClient(app)
  const console = await makeAdminConsole(app)
  const admin = await makeUser(app, { role: 'admin' })

  /** Through /authorize to a code (signing in and consenting as needed), then the tokens. */
  async function codeFlow(b: PageBrowser, user: { email: string; password: string }) {
    const { verifier, challenge } = pkce()
    let res = await b.visit(
      authorizeUrl({
        response_type: 'code',
        client_id: thirdParty.id,
        redirect_uri: REDIRECT,
        scope: 'openid email',
        state: 's',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    )
    if (pageOf(res) === 'signin') res = await b.signIn(res, user)
    if (pageOf(res) === 'consent') res = await b.consent(res)
    const { code } = redirectParams(res)
    const tokens = await token(app, thirdParty, { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT, code_verifier: verifier })
    return tokens.json() as { access_token: string; refresh_token: string; id_token: string }
  }
  /** The sign-in page, as a browser without a live session meets it (its device cookie, if any, kept). */
  const signInPage = async (b: PageBrowser, user: { email: string; password: string }) => {
    b.jar.delete('tessera_session')
    return b.signIn(await b.visit('/signin'), user)
  }
  /** Signed in, as /authorize sees it: a code straight away, or the sign-in page. */
  const signedIn = async (b: PageBrowser) => {
    const res = await b.get(
      authorizeUrl({
        response_type: 'code',
        client_id: own.id,
        redirect_uri: REDIRECT,
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        prompt: 'none',
      }),
    )
    const params = redirectParams(res)
    if (params.error !== undefined && params.error !== 'login_required') throw new Error(`unexpected ${params.error}`)
    return params.error === undefined
  }
  const refreshes = async (refreshToken: string) =>
    (await token(app, thirdParty, { grant_type: 'refresh_token', refresh_token: refreshToken })).statusCode === 200

  t.test('the sign-in page locks an account after the threshold, for every browser but one that signed in to it before', async (t) => {
    const user = await makeUser(app)
    const owner = new PageBrowser(app)
    t.equal((await signInPage(owner, user)).statusCode, 200, "the owner's browser signed in once: it holds a device cookie")
    t.ok(
      [...owner.jar.keys()].some((k) => k.endsWith('tessera_device')),
      'the device cookie',
    )

    const attacker = new PageBrowser(app)
    for (let i = 0; i < THRESHOLD; i++) {
      const res = await signInPage(attacker, { email: user.email, password: 'not the password' })
      t.equal(res.statusCode, 400, `failure ${i + 1} from elsewhere: 400`)
      t.match(res.body, /Wrong email or password\./)
    }
    const locked = await signInPage(attacker, user)
    t.equal(locked.statusCode, 429, 'locked: even the right password is refused on the page')
    t.ok(Number(locked.headers['retry-after']) > 0, 'with Retry-After')
    t.match(locked.body, /role="alert">Too many failed sign-ins for this account/)
    t.equal((await token(app, direct, { grant_type: 'password', username: user.email, password: user.password })).statusCode, 429, 'and at /token')

    const back = await signInPage(owner, user)
    t.equal(back.statusCode, 200, "the owner's browser still signs in: the attacker's failures are not its own")
    t.match(back.body, /You are signed in as/)

    const unknown = new PageBrowser(app)
    for (let i = 0; i < THRESHOLD; i++) await signInPage(unknown, { email: 'nobody@example.com', password: 'not the password' })
    const unknownLocked = await signInPage(unknown, { email: 'nobody@example.com', password: 'not the password' })
    t.equal(unknownLocked.statusCode, 429, 'a name no account has locks the same way')
    t.equal(unknownLocked.body.replace(/value="[^"]*"/g, ''), locked.body.replace(/value="[^"]*"/g, ''), 'with the same page')

    clock.advance(601)
    t.equal((await signInPage(attacker, user)).statusCode, 200, 'released after LOCKOUT_DURATION')
  })

  t.test('a device cookie made for another account, or forged, does not help', async (t) => {
    const victim = await makeUser(app)
    const other = await makeUser(app)
    const b = new PageBrowser(app)
    await signInPage(b, other)
    for (let i = 0; i < THRESHOLD; i++) await signInPage(new PageBrowser(app), { email: victim.email, password: 'wrong wrong' })
    t.equal((await signInPage(b, victim)).statusCode, 429, "another account's device cookie: locked like any browser")
    const forged = new PageBrowser(app)
    const name = [...b.jar.keys()].find((k) => k.endsWith('tessera_device'))!
    forged.jar.set(name, `${b.jar.get(name)!.split('.')[0]}.forged-signature`)
    t.equal((await signInPage(forged, victim)).statusCode, 429, 'a forged one: locked too')
  })

  t.test('/logout ends the session and the families started from it, not the others', async (t) => {
    const user = await makeUser(app)
    const b = new PageBrowser(app)
    const session = await codeFlow(b, user)
    const elsewhere = await signIn(app, direct, user)
    t.ok(await signedIn(b), 'signed in')
    const page = await b.visit('/logout')
    t.match(page.body, /Sign out/, 'without an id_token_hint: a page to confirm')
    t.ok(await signedIn(b), 'nothing ended by the GET alone')
    const done = await b.submit(page, '/logout', {})
    t.equal(done.statusCode, 200)
    t.match(done.body, /You are signed out\./)
    t.notOk(await signedIn(b), 'the browser session ended')
    t.notOk(await refreshes(session.refresh_token), "the code flow's family is revoked")
    t.equal((await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${session.access_token}` } })).statusCode, 401, 'and its access token')
    t.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${elsewhere.access_token}` } })).statusCode, 200, 'a session elsewhere lives on')
  })

  t.test('a password change, a reset and an admin disable end the browser sessions', async (t) => {
    const user = await makeUser(app)
    const b = new PageBrowser(app)
    await signInPage(b, user)
    t.ok(await signedIn(b))
    const api = await signIn(app, direct, user)
    const changed = await app.inject({
      method: 'POST',
      url: '/me/password',
      headers: { authorization: `Bearer ${api.access_token}`, 'content-type': 'application/json' },
      payload: { current_password: user.password, new_password: 'a brand new passphrase' },
    })
    t.equal(changed.statusCode, 200)
    t.notOk(await signedIn(b), 'a password change ends it')

    const again = new PageBrowser(app)
    await signInPage(again, { email: user.email, password: 'a brand new passphrase' })
    t.ok(await signedIn(again))
    // A reset token made as the mail would carry it (accounts/password-reset.ts), then used through the page.
    const secret = randomSecret(32)
    await app.stores.passwordResets.replace({
      userId: user.id,
      tokenHash: sha256(secret),
      expiresAt: new Date(clock.now() + 3600_000),
      now: new Date(clock.now()),
    })
    const form = await again.visit(`/reset-password?token=${encodeURIComponent(secret)}`)
    const after = await again.submit(form, '/reset-password', { token: secret, password: 'yet another passphrase' })
    t.match(after.body, /Your password has been changed\./)
    t.notOk(await signedIn(again), 'a reset ends it')

    const third = new PageBrowser(app)
    await signInPage(third, { email: user.email, password: 'yet another passphrase' })
    t.ok(await signedIn(third))
    const bearer = await adminToken(app, console, admin)
    const disabled = await app.inject({
      method: 'PATCH',
      url: `/admin/users/${user.id}`,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      payload: { disabled: true },
    })
    t.equal(disabled.statusCode, 200)
    t.notOk(await signedIn(third), 'an admin disable ends it')
  })

  t.test('consents: listed, and withdrawn with the sessions of that client', async (t) => {
    const user = await makeUser(app)
    const b = new PageBrowser(app)
    const session = await codeFlow(b, user)
    const api = await signIn(app, direct, user)
    const as = { authorization: `Bearer ${api.access_token}` }
    const listed = await app.inject({ url: '/me/consents', headers: as })
    t.equal(listed.statusCode, 200)
    t.match(listed.json(), { consents: [{ client_id: thirdParty.id, client_name: 'Photo Book', scope: 'email openid' }] })
    const gone = await app.inject({ method: 'DELETE', url: `/me/consents/${thirdParty.id}`, headers: as })
    t.same(gone.json(), { signed_out_sessions: 1 })
    t.notOk(await refreshes(session.refresh_token), "the client's session is signed out")
    t.same((await app.inject({ url: '/me/consents', headers: as })).json(), { consents: [] })
    const twice = await app.inject({ method: 'DELETE', url: `/me/consents/${thirdParty.id}`, headers: as })
    t.equal(twice.statusCode, 404, 'twice: 404')
    t.equal(twice.json().error, 'not_found')
    // The next authorization asks again.
    const { challenge } = pkce()
    const res = await b.visit(
      authorizeUrl({
        response_type: 'code',
        client_id: thirdParty.id,
        redirect_uri: REDIRECT,
        scope: 'openid email',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    )
    t.equal(pageOf(res), 'consent', 'the consent page again')
    t.equal((await post(app, '/introspect', direct, { token: api.access_token })).json().active, true, 'the direct session was not touched')
  })
})
