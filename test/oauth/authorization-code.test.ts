// The authorization code flow with PKCE (docs/pages.md, issue 18): /authorize, the sign-in and consent
// pages, the code at /token, the ID token (§3) and /userinfo by scope; and every attack the issue
// lists, each its own assertion, on both database legs.
import { createHash } from 'node:crypto'
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import t, { type Test } from 'tap'
import { createAccount } from '../../src/accounts/accounts.js'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { decode, makeClient, makeUser, post, type TestClient, token } from '../helpers/factories.js'
import { authorizeUrl, inputValue, PageBrowser, pageOf, pkce, type Res, redirectParams } from '../helpers/pages.js'

const FIRST_CB = 'http://127.0.0.1:9/cb'
const THIRD_CB = 'https://app.example/cb'
const THIRD_CB_QUERY = 'https://app.example/cb2?tenant=1'
const THIRD_BYE = 'https://app.example/bye'
const EVIL_NAME = '<script>alert("name")</script> Photos'
const atHash = (accessToken: string) => createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url')

eachLeg(t, async (t, leg) => {
  const clock = frozenClock(Date.now())
  const { app } = await build(t, leg, { clock })
  const issuer = app.config.issuer
  const firstParty = await makeClient(app, {
    name: 'Tessera Console',
    public: true,
    firstParty: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'email', 'profile'],
    redirectUris: [FIRST_CB],
  })
  // Confidential, so that it may also call /introspect.
  const thirdParty = await makeClient(app, {
    name: EVIL_NAME,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'email', 'profile'],
    redirectUris: [THIRD_CB, THIRD_CB_QUERY],
    postLogoutRedirectUris: [THIRD_BYE],
  })
  const other = await makeClient(app, {
    name: 'another app',
    public: true,
    grantTypes: ['authorization_code'],
    scopes: ['openid'],
    redirectUris: [THIRD_CB],
  })
  let users = 0
  /** A user of their own, for a test that needs one who consented to nothing yet. */
  const newUser = async () => {
    const password = 'correct horse battery'
    return { ...(await createAccount(app.stores.users, { email: `ada${++users}@example.com`, password, name: 'Ada Lovelace' })), password }
  }
  const user = await newUser()

  const jwks = async () => createLocalJWKSet((await app.inject('/.well-known/jwks.json')).json() as JSONWebKeySet)
  const verifyIdToken = async (idToken: string, client: TestClient) =>
    (await jwtVerify(idToken, await jwks(), { issuer, audience: client.id, typ: 'JWT', algorithms: ['RS256'], currentDate: new Date(clock.now()) })).payload

  /** A redirect back to the client: its parameters; it must carry `iss` (RFC 9207). */
  const toClient = (t: Test, res: Res, redirectUri: string, what: string) => {
    t.equal(res.statusCode, 303, `${what}: a redirect`)
    const location = String(res.headers.location)
    t.ok(location.startsWith(redirectUri.split('?')[0]!), `${what}: to the redirect URI (${location.slice(0, 80)})`)
    const params = redirectParams(res)
    t.equal(params.iss, issuer, `${what}: with iss`)
    return params
  }
  /** An error page, never a redirect. */
  const errorPage = (t: Test, res: Res, what: string, status = 400) => {
    t.equal(res.statusCode, status, `${what}: ${status}`)
    t.equal(res.headers.location, undefined, `${what}: no Location`)
    t.match(String(res.headers['content-type']), /^text\/html/, `${what}: a page`)
  }

  interface Flow {
    client: TestClient
    redirectUri?: string
    scope?: string
    nonce?: string
    state?: string
    prompt?: string
    extra?: Record<string, string>
    user?: { email: string; password: string }
  }
  /** Runs /authorize to the redirect back, signing in and consenting when asked; what was shown, and the code. */
  async function authorize(b: PageBrowser, f: Flow) {
    const { verifier, challenge } = pkce()
    const redirectUri = f.redirectUri ?? (f.client === firstParty ? FIRST_CB : THIRD_CB)
    const shown: string[] = []
    let res = await b.visit(
      authorizeUrl({
        response_type: 'code',
        client_id: f.client.id,
        redirect_uri: redirectUri,
        scope: f.scope ?? 'openid email',
        state: f.state ?? 'st-1',
        nonce: f.nonce,
        prompt: f.prompt,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        ...f.extra,
      }),
    )
    if (pageOf(res) === 'signin') {
      shown.push('signin')
      res = await b.signIn(res, f.user ?? user)
    }
    if (pageOf(res) === 'consent') {
      shown.push('consent')
      res = await b.consent(res)
    }
    if (res.statusCode !== 303) throw new Error(`no redirect back: ${res.statusCode} ${res.body.slice(0, 500)}`)
    const params = redirectParams(res)
    return { shown, params, code: params.code!, verifier, redirectUri, res }
  }
  const exchange = (client: TestClient, code: string, redirectUri: string, verifier: string) =>
    token(app, client, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier })
  const userinfo = (accessToken: string) => app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${accessToken}` } })
  const introspect = async (tok: string) => (await post(app, '/introspect', thirdParty, { token: tok })).json()

  t.test('happy path: a first-party client skips consent; the ID token and /userinfo', async (t) => {
    const b = new PageBrowser(app)
    const signedInAt = Math.floor(clock.now() / 1000)
    const a = await authorize(b, { client: firstParty, scope: 'openid email', nonce: 'n-0S6_WzA2Mj', state: 'xyz' })
    t.same(a.shown, ['signin'], 'the sign-in page, and no consent page')
    t.equal(a.params.state, 'xyz')
    t.equal(a.params.iss, issuer, 'iss on the code redirect (RFC 9207)')
    t.match(a.params.code, /^[A-Za-z0-9_-]{32,}$/)
    clock.advance(2)
    const res = await exchange(firstParty, a.code, a.redirectUri, a.verifier)
    t.equal(res.statusCode, 200, res.body)
    const body = res.json()
    t.match(body, { token_type: 'Bearer', scope: 'openid email', expires_in: 900 })
    t.type(body.refresh_token, 'string')
    t.type(body.id_token, 'string')
    const at = decode(body.access_token).payload
    t.equal(decode(body.id_token).header.typ, 'JWT')
    const id = await verifyIdToken(body.id_token, firstParty)
    t.equal(id.iss, issuer, 'iss')
    t.equal(id.sub, user.id, 'sub is the user')
    t.equal(id.aud, firstParty.id, 'aud is the client id')
    t.equal(id.nonce, 'n-0S6_WzA2Mj', 'nonce of the authorization request')
    t.equal(id.auth_time, signedInAt, 'auth_time is when the user signed in, not the exchange')
    t.equal(id.sid, at.sid, 'sid is the family')
    t.type(id.sid, 'string')
    t.equal(id.at_hash, atHash(body.access_token), 'at_hash: left half of SHA-256 of the access token')
    t.equal(id.email, user.email, 'email by the email scope')
    t.equal(id.email_verified, false, 'email_verified by the email scope')
    t.notOk('name' in id, 'no name without the profile scope')
    t.equal(id.exp, id.iat! + 900, 'exp: the access-token lifetime')

    const info = await userinfo(body.access_token)
    t.equal(info.statusCode, 200)
    t.same(info.json(), { sub: user.id, email: user.email, email_verified: false }, '/userinfo: sub and email claims only')

    clock.advance(5)
    const refreshed = await token(app, firstParty, { grant_type: 'refresh_token', refresh_token: body.refresh_token })
    t.equal(refreshed.statusCode, 200, refreshed.body)
    const r = refreshed.json()
    t.type(r.id_token, 'string', 'a refresh gives a new ID token')
    t.not(r.id_token, body.id_token)
    const id2 = await verifyIdToken(r.id_token, firstParty)
    t.notOk('nonce' in id2, 'no nonce after a refresh')
    t.equal(id2.sub, user.id)
    t.equal(id2.aud, firstParty.id)
    t.equal(id2.auth_time, signedInAt, 'the original auth_time')
    t.equal(id2.sid, id.sid, 'same family')
    t.equal(id2.at_hash, atHash(r.access_token), 'at_hash of the new access token')
    t.equal(id2.email, user.email)
  })

  t.test('/userinfo and the ID token by scope: openid alone, and profile', async (t) => {
    const b = new PageBrowser(app)
    const only = await authorize(b, { client: firstParty, scope: 'openid' })
    const o = (await exchange(firstParty, only.code, only.redirectUri, only.verifier)).json()
    const idOnly = await verifyIdToken(o.id_token, firstParty)
    t.notOk('email' in idOnly || 'email_verified' in idOnly || 'name' in idOnly, 'openid alone: no email nor name in the ID token')
    t.notOk('nonce' in idOnly, 'no nonce when the request had none')
    t.same((await userinfo(o.access_token)).json(), { sub: user.id }, 'openid alone: sub only')

    const prof = await authorize(b, { client: firstParty, scope: 'openid profile' })
    const p = (await exchange(firstParty, prof.code, prof.redirectUri, prof.verifier)).json()
    const idProf = await verifyIdToken(p.id_token, firstParty)
    t.equal(idProf.name, 'Ada Lovelace', 'name by the profile scope')
    t.notOk('email' in idProf, 'no email without the email scope')
    t.same((await userinfo(p.access_token)).json(), { sub: user.id, name: 'Ada Lovelace' }, 'profile: sub and name')
  })

  // OpenID Connect Core §5.3.2: a claim that is not returned is omitted, never null.
  t.test('profile scope, a user without a name: no null name claim', async (t) => {
    const nameless = await makeUser(app)
    const b = new PageBrowser(app)
    const a = await authorize(b, { client: firstParty, scope: 'openid profile', user: nameless })
    const body = (await exchange(firstParty, a.code, a.redirectUri, a.verifier)).json()
    t.notOk('name' in (await verifyIdToken(body.id_token, firstParty)), 'the ID token has no name claim')
    t.notOk('name' in (await userinfo(body.access_token)).json(), '/userinfo has no name claim')
  })

  t.test('without openid: no ID token', async (t) => {
    const b = new PageBrowser(app)
    const a = await authorize(b, { client: firstParty, scope: 'email' })
    const res = await exchange(firstParty, a.code, a.redirectUri, a.verifier)
    t.equal(res.statusCode, 200, res.body)
    t.notOk('id_token' in res.json())
  })

  t.test('third party: consent asked, remembered, asked again with prompt=consent or a wider scope set', async (t) => {
    const b = new PageBrowser(app)
    const me = await newUser()
    const first = await authorize(b, { client: thirdParty, scope: 'openid email', user: me })
    t.same(first.shown, ['signin', 'consent'], 'first time: sign-in, then consent')
    t.equal((await exchange(thirdParty, first.code, first.redirectUri, first.verifier)).statusCode, 200)
    const second = await authorize(b, { client: thirdParty, scope: 'openid email' })
    t.same(second.shown, [], 'second time: neither page (session and consent remembered)')
    const narrower = await authorize(b, { client: thirdParty, scope: 'openid' })
    t.same(narrower.shown, [], 'a subset of the consented scopes: no consent page')
    const again = await authorize(b, { client: thirdParty, scope: 'openid email', prompt: 'consent' })
    t.same(again.shown, ['consent'], 'prompt=consent asks again')
    const wider = await authorize(b, { client: thirdParty, scope: 'openid email profile' })
    t.same(wider.shown, ['consent'], 'a wider scope set asks again')
    const login = await authorize(b, { client: thirdParty, scope: 'openid email', prompt: 'login', user: me })
    t.same(login.shown, ['signin'], 'prompt=login asks to sign in again')
    t.equal((await exchange(thirdParty, login.code, login.redirectUri, login.verifier)).statusCode, 200)

    // The consent page says who asks, escaped, and lists the scopes.
    const page = await b.visit(
      authorizeUrl({
        response_type: 'code',
        client_id: thirdParty.id,
        redirect_uri: THIRD_CB,
        scope: 'openid email',
        prompt: 'consent',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      }),
    )
    t.equal(pageOf(page), 'consent')
    t.match(page.body, 'See your email address')

    const denied = await b.consent(page, 'deny')
    const params = toClient(t, denied, THIRD_CB, 'consent denied')
    t.equal(params.error, 'access_denied')
    t.notOk(params.code)
  })

  t.test('a redirect URI with its own query keeps it, and gets code, state and iss', async (t) => {
    const b = new PageBrowser(app)
    await authorize(b, { client: thirdParty, scope: 'openid' })
    const a = await authorize(b, { client: thirdParty, scope: 'openid', redirectUri: THIRD_CB_QUERY, state: 'q' })
    t.equal(a.params.tenant, '1')
    t.equal(a.params.state, 'q')
    t.equal(a.params.iss, issuer)
    t.equal((await exchange(thirdParty, a.code, THIRD_CB_QUERY, a.verifier)).statusCode, 200)
    t.equal(
      (await exchange(thirdParty, (await authorize(b, { client: thirdParty, scope: 'openid', redirectUri: THIRD_CB_QUERY })).code, THIRD_CB, a.verifier)).json()
        .error,
      'invalid_grant',
      'another registered redirect_uri at /token: invalid_grant',
    )
  })

  t.test('attacks on /authorize', async (t) => {
    const base = (over: Record<string, string | undefined> = {}) =>
      authorizeUrl({
        response_type: 'code',
        client_id: thirdParty.id,
        redirect_uri: THIRD_CB,
        scope: 'openid',
        state: 'st<"x">',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        ...over,
      })

    t.test('missing PKCE: a redirect with invalid_request, state and iss', async (t) => {
      const b = new PageBrowser(app)
      const p = toClient(t, await b.get(base({ code_challenge: undefined, code_challenge_method: undefined })), THIRD_CB, 'no challenge')
      t.equal(p.error, 'invalid_request')
      t.equal(p.state, 'st<"x">')
      t.notOk(p.code)
      const m = toClient(t, await b.get(base({ code_challenge_method: undefined })), THIRD_CB, 'a challenge without a method')
      t.equal(m.error, 'invalid_request', 'the method defaults to plain, which is refused')
    })

    t.test('plain PKCE: invalid_request', async (t) => {
      const verifier = pkce().verifier
      const p = toClient(t, await new PageBrowser(app).get(base({ code_challenge: verifier, code_challenge_method: 'plain' })), THIRD_CB, 'plain')
      t.equal(p.error, 'invalid_request')
      t.equal(p.state, 'st<"x">')
    })

    t.test('plain PKCE even with a session: invalid_request, no code', async (t) => {
      const b = new PageBrowser(app)
      await authorize(b, { client: thirdParty, scope: 'openid' })
      const p = toClient(t, await b.get(base({ code_challenge: pkce().verifier, code_challenge_method: 'plain' })), THIRD_CB, 'plain, signed in')
      t.equal(p.error, 'invalid_request')
      t.notOk(p.code)
    })

    t.test('only response_type=code', async (t) => {
      const p = toClient(t, await new PageBrowser(app).get(base({ response_type: 'token' })), THIRD_CB, 'response_type=token')
      t.equal(p.error, 'unsupported_response_type')
    })

    for (const [what, uri] of [
      ['path', 'https://app.example/cb/evil'],
      ['a trailing slash', 'https://app.example/cb/'],
      ['query', 'https://app.example/cb?next=https://evil.example'],
      ['a query the registered one lacks', 'https://app.example/cb?'],
      ['a different query', 'https://app.example/cb2?tenant=2'],
      ['fragment', 'https://app.example/cb#frag'],
      ['case of the host', 'https://APP.example/cb'],
      ['case of the path', 'https://app.example/CB'],
      ['case of the scheme', 'HTTPS://app.example/cb'],
      ['port', 'https://app.example:8443/cb'],
      ['the default port spelt out', 'https://app.example:443/cb'],
      ['userinfo', 'https://attacker@app.example/cb'],
      ['userinfo with password', 'https://app.example:x@evil.example/cb'],
      ['scheme', 'http://app.example/cb'],
      ['another host', 'https://evil.example/cb'],
    ] as const) {
      t.test(`a redirect URI that differs by ${what}: an error page, no redirect`, async (t) => {
        const res = await new PageBrowser(app).get(base({ redirect_uri: uri }))
        errorPage(t, res, what)
        t.notMatch(res.body, 'evil.example', 'the URI is not linked from the page')
      })
    }
    t.test('a loopback redirect URI on another port: an error page', async (t) => {
      errorPage(t, await new PageBrowser(app).get(base({ client_id: firstParty.id, redirect_uri: 'http://127.0.0.1:10/cb' })), 'port')
    })

    t.test('no redirect_uri: an error page', async (t) => {
      errorPage(t, await new PageBrowser(app).get(base({ redirect_uri: undefined })), 'no redirect_uri')
    })

    t.test('an unknown client: an error page, no redirect', async (t) => {
      errorPage(t, await new PageBrowser(app).get(base({ client_id: 'no-such-client' })), 'unknown client')
      errorPage(t, await new PageBrowser(app).get(base({ client_id: undefined })), 'no client_id')
      errorPage(t, await new PageBrowser(app).get(base({ client_id: 'x'.repeat(5000) })), 'a huge client_id')
    })

    t.test('a repeated redirect_uri: an error page', async (t) => {
      errorPage(t, await new PageBrowser(app).get(`${base()}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`), 'two redirect_uris')
    })

    t.test('prompt=none without a session: login_required, with state and iss', async (t) => {
      const p = toClient(t, await new PageBrowser(app).get(base({ prompt: 'none' })), THIRD_CB, 'prompt=none')
      t.equal(p.error, 'login_required')
      t.equal(p.state, 'st<"x">')
      t.notOk(p.code)
    })

    t.test('prompt=none signed in but without consent: consent_required', async (t) => {
      const b = new PageBrowser(app)
      const me = await newUser()
      // Signed in through the first-party client: a session, but no consent to the third party.
      await authorize(b, { client: firstParty, scope: 'openid', user: me })
      const p = toClient(t, await b.get(base({ prompt: 'none', scope: 'openid email profile' })), THIRD_CB, 'prompt=none, no consent')
      t.equal(p.error, 'consent_required')
      t.equal(p.state, 'st<"x">')
      t.notOk(p.code)
      // …and with both, prompt=none gives a code without a page.
      await authorize(b, { client: thirdParty, scope: 'openid email profile' })
      const ok = toClient(t, await b.get(base({ prompt: 'none', scope: 'openid email profile' })), THIRD_CB, 'prompt=none, consented')
      t.type(ok.code, 'string')
    })
  })

  t.test('attacks on the code at /token', async (t) => {
    const b = new PageBrowser(app)
    await authorize(b, { client: thirdParty, scope: 'openid email' })
    const fresh = () => authorize(b, { client: thirdParty, scope: 'openid email' })

    t.test('a wrong code_verifier: invalid_grant', async (t) => {
      const a = await fresh()
      const res = await exchange(thirdParty, a.code, a.redirectUri, pkce().verifier)
      t.equal(res.statusCode, 400)
      t.equal(res.json().error, 'invalid_grant')
    })

    t.test('no code_verifier: refused', async (t) => {
      const a = await fresh()
      const res = await token(app, thirdParty, { grant_type: 'authorization_code', code: a.code, redirect_uri: a.redirectUri })
      t.equal(res.statusCode, 400)
      t.equal(res.json().error, 'invalid_request')
    })

    t.test('another redirect_uri at /token: invalid_grant', async (t) => {
      const a = await fresh()
      const res = await exchange(thirdParty, a.code, 'https://app.example/cb/other', a.verifier)
      t.equal(res.json().error, 'invalid_grant')
    })

    t.test('a code used twice: invalid_grant, and what the first exchange issued is revoked', async (t) => {
      const a = await fresh()
      const first = await exchange(thirdParty, a.code, a.redirectUri, a.verifier)
      t.equal(first.statusCode, 200)
      const issued = first.json()
      t.match(await introspect(issued.access_token), { active: true }, 'before the replay, the access token is active')
      t.equal((await userinfo(issued.access_token)).statusCode, 200)
      const second = await exchange(thirdParty, a.code, a.redirectUri, a.verifier)
      t.equal(second.statusCode, 400)
      t.equal(second.json().error, 'invalid_grant', 'the second use: invalid_grant')
      t.same(await introspect(issued.access_token), { active: false }, "the first exchange's access token is inactive at /introspect")
      t.equal((await userinfo(issued.access_token)).statusCode, 401, '…and refused by /userinfo')
      t.same(await introspect(issued.refresh_token), { active: false }, 'its refresh token is inactive')
      const refreshed = await token(app, thirdParty, { grant_type: 'refresh_token', refresh_token: issued.refresh_token })
      t.equal(refreshed.json().error, 'invalid_grant', 'its refresh token is invalid_grant')
    })

    t.test('a code used by another client: invalid_grant', async (t) => {
      const a = await fresh()
      const res = await exchange(other, a.code, a.redirectUri, a.verifier)
      t.equal(res.statusCode, 400)
      t.equal(res.json().error, 'invalid_grant')
    })

    t.test('a code after 60 s: invalid_grant; at 59 s it works', async (t) => {
      const late = await fresh()
      const inTime = await fresh()
      clock.advance(59)
      t.equal((await exchange(thirdParty, inTime.code, inTime.redirectUri, inTime.verifier)).statusCode, 200, 'at 59 s: 200')
      clock.advance(2)
      const res = await exchange(thirdParty, late.code, late.redirectUri, late.verifier)
      t.equal(res.statusCode, 400)
      t.equal(res.json().error, 'invalid_grant', 'at 61 s: invalid_grant')
    })

    t.test('a made-up code: invalid_grant', async (t) => {
      const res = await exchange(thirdParty, 'A'.repeat(43), THIRD_CB, pkce().verifier)
      t.equal(res.json().error, 'invalid_grant')
    })
  })

  t.test('two concurrent exchanges of one code: exactly one 200', async (t) => {
    const b = new PageBrowser(app)
    await authorize(b, { client: thirdParty, scope: 'openid' })
    for (let i = 0; i < 5; i++) {
      const a = await authorize(b, { client: thirdParty, scope: 'openid' })
      const answers = await Promise.all([1, 2].map(() => exchange(thirdParty, a.code, a.redirectUri, a.verifier)))
      const codes = answers.map((r) => r.statusCode).sort()
      t.same(codes, [200, 400], `round ${i + 1}: one 200 and one 400`)
      t.same(
        answers.filter((r) => r.statusCode === 400).map((r) => r.json().error),
        ['invalid_grant'],
        `round ${i + 1}: the loser gets invalid_grant`,
      )
    }
  })

  // docs/pages.md#codes: the second use revokes what the first issued, however close together they come:
  // a replay that finds no family yet marks the code, and the winner checks it once its family
  // exists (stores/authorization-codes.ts replayed).
  t.test('two concurrent exchanges: the winner’s tokens are revoked too', async (t) => {
    const b = new PageBrowser(app)
    await authorize(b, { client: thirdParty, scope: 'openid' })
    for (let i = 0; i < 10; i++) {
      const a = await authorize(b, { client: thirdParty, scope: 'openid' })
      const answers = await Promise.all([1, 2].map(() => exchange(thirdParty, a.code, a.redirectUri, a.verifier)))
      const winner = answers.find((r) => r.statusCode === 200)
      t.ok(winner, `round ${i + 1}: a winner`)
      if (winner) t.same(await introspect(winner.json().access_token), { active: false }, `round ${i + 1}: its access token is inactive`)
    }
  })

  t.test('CSRF: a form post without or with a wrong token is a 403 page', async (t) => {
    const b = new PageBrowser(app)
    const signin = await b.visit(
      authorizeUrl({
        response_type: 'code',
        client_id: thirdParty.id,
        redirect_uri: THIRD_CB,
        scope: 'openid',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      }),
    )
    t.equal(pageOf(signin), 'signin')
    const returnTo = inputValue(signin.body, 'return_to')!
    const good = inputValue(signin.body, 'csrf')!
    const creds = { email: user.email, password: user.password, return_to: returnTo }
    // Another browser's token is valid for its cookie, not this one's.
    const stranger = new PageBrowser(app)
    const theirs = inputValue((await stranger.get('/signin')).body, 'csrf')!
    for (const [what, form] of [
      ['no token', creds],
      ['an empty token', { ...creds, csrf: '' }],
      ['a wrong token', { ...creds, csrf: `${good.slice(0, -2)}AA` }],
      ["another browser's token", { ...creds, csrf: theirs }],
    ] as const) {
      const res = await b.post('/signin', form)
      errorPage(t, res, `sign-in with ${what}`, 403)
      t.notOk([...b.jar.keys()].includes('tessera_session'), `sign-in with ${what}: no session`)
    }
    const noCookie = await app.inject({
      method: 'POST',
      url: '/signin',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...creds, csrf: good }).toString(),
    })
    errorPage(t, noCookie, 'the right token without its cookie', 403)
    t.notMatch(String(noCookie.headers['set-cookie'] ?? ''), 'tessera_session')
    const crossSite = await b.post('/signin', { ...creds, csrf: good }, { origin: 'https://evil.example' })
    errorPage(t, crossSite, 'the right token from another origin', 403)

    // Signed in for real, consent without a token is refused and records nothing.
    const me = await newUser()
    const consent = await b.signIn(signin, me)
    t.equal(pageOf(consent), 'consent')
    const rt = inputValue(consent.body, 'return_to')!
    errorPage(t, await b.post('/consent', { return_to: rt, decision: 'allow' }), 'consent with no token', 403)
    errorPage(t, await b.post('/consent', { return_to: rt, decision: 'allow', csrf: 'x'.repeat(43) }), 'consent with a wrong token', 403)
    t.notOk(await app.stores.consents.covers(me.id, thirdParty.id, ['openid']), 'no consent was recorded')
    errorPage(t, await b.post('/logout', {}), 'logout with no token', 403)
    errorPage(t, await b.post('/signup', { email: 'new@example.com', password: 'correct horse battery' }), 'sign-up with no token', 403)
    errorPage(t, await b.post('/forgot-password', { email: user.email }), 'forgot-password with no token', 403)
    errorPage(t, await b.post('/reset-password', { token: 'x', password: 'correct horse battery' }), 'reset-password with no token', 403)
    t.ok(await b.app.stores.browserSessions.find(b.jar.get('tessera_session')!, new Date(clock.now())), 'the session was not ended by the forged logout')
  })

  t.test('open redirect through post_logout_redirect_uri: only a registered one', async (t) => {
    const login = async () => {
      const b = new PageBrowser(app)
      const a = await authorize(b, { client: thirdParty, scope: 'openid' })
      const tokens = (await exchange(thirdParty, a.code, a.redirectUri, a.verifier)).json()
      return { b, idToken: tokens.id_token as string }
    }
    for (const [what, uri] of [
      ['another site', 'https://evil.example/'],
      ['a prefix of a registered one', 'https://app.example/bye/../../evil'],
      ['a registered one with more', `${THIRD_BYE}?next=https://evil.example`],
      ['a redirect URI (not a post-logout one)', THIRD_CB],
    ] as const) {
      const { b, idToken } = await login()
      const res = await b.get(`/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: uri, state: 's' })}`)
      t.equal(res.headers.location, undefined, `${what}: no redirect`)
      t.match(String(res.headers['content-type']), /^text\/html/, `${what}: a page`)
      t.notMatch(res.body, 'evil.example', `${what}: not linked`)
    }
    const anon = await new PageBrowser(app).get(
      `/logout?${new URLSearchParams({ client_id: thirdParty.id, post_logout_redirect_uri: 'https://evil.example/' })}`,
    )
    t.equal(anon.headers.location, undefined, 'with client_id and no hint: no redirect')
    const wrongClient = await new PageBrowser(app).get(`/logout?${new URLSearchParams({ client_id: other.id, post_logout_redirect_uri: THIRD_BYE })}`)
    t.equal(wrongClient.headers.location, undefined, "another client's registered URI: no redirect")
    const { b, idToken } = await login()
    const ok = await b.get(`/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: THIRD_BYE, state: 's1' })}`)
    t.equal(ok.statusCode, 303, 'the registered one: a redirect')
    t.equal(ok.headers.location, `${THIRD_BYE}?state=s1`)
    const forged = await new PageBrowser(app).get(
      `/logout?${new URLSearchParams({ id_token_hint: `${idToken.slice(0, -4)}AAAA`, post_logout_redirect_uri: THIRD_BYE })}`,
    )
    errorPage(t, forged, 'a forged id_token_hint')
  })

  t.test('HTML injection: echoed values are escaped', async (t) => {
    const script = '"><script>alert(1)</script>'
    const escaped = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'
    const noScript = (t: Test, res: Res, what: string) => t.notMatch(res.body, '<script', `${what}: no raw <script>`)

    const b = new PageBrowser(app)
    const query = {
      response_type: 'code',
      client_id: thirdParty.id,
      redirect_uri: THIRD_CB,
      scope: 'openid',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    }
    const signin = await b.visit(authorizeUrl({ ...query, login_hint: script, state: script }))
    t.equal(pageOf(signin), 'signin')
    noScript(t, signin, 'login_hint and state on the sign-in page')
    t.match(signin.body, `value="${escaped}"`, 'login_hint: escaped in the email field')
    t.match(signin.body, '&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt; Photos', "the client's name: escaped")
    t.equal(inputValue(signin.body, 'email'), script, 'and read back unchanged')

    // A return_to made by hand (not through /authorize's URL encoding) is escaped too.
    const handmade = await b.get(`/signin?${new URLSearchParams({ return_to: `/authorize?state=${script}` })}`)
    noScript(t, handmade, 'a hand-made return_to')
    t.match(handmade.body, `value="/authorize?state=${escaped}"`, 'return_to: escaped in the hidden field')

    const wrong = await b.submit(signin, '/signin', { email: script, password: 'not the password' })
    t.equal(wrong.statusCode, 400)
    noScript(t, wrong, 'the sign-in error page')
    t.match(wrong.body, 'Wrong email or password.')
    t.match(wrong.body, escaped, 'the typed email: escaped')

    const consent = await b.signIn(signin, await newUser())
    t.equal(pageOf(consent), 'consent')
    noScript(t, consent, 'the consent page')
    t.match(consent.body, '&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt; Photos', "the client's name on the consent page: escaped")
    const back = await b.consent(consent)
    t.equal(redirectParams(back).state, script, 'the state goes back unchanged')

    // A scope is a client's own word (RFC 6749 §3.3 allows < and >): shown escaped on the consent page.
    const scoped = await makeClient(app, {
      name: 'scoped',
      public: true,
      grantTypes: ['authorization_code'],
      scopes: ['openid', '<b>bold</b>'],
      redirectUris: [THIRD_CB],
    })
    const scopePage = await b.visit(authorizeUrl({ ...query, client_id: scoped.id, scope: 'openid <b>bold</b>' }))
    t.equal(pageOf(scopePage), 'consent')
    t.notMatch(scopePage.body, '<b>bold</b>', 'a scope name: no raw markup on the consent page')
    t.match(scopePage.body, '&lt;b&gt;bold&lt;/b&gt;', 'a scope name: escaped')

    const signupBrowser = new PageBrowser(app)
    const signup = await signupBrowser.get('/signup')
    const badSignup = await signupBrowser.submit(signup, '/signup', { email: `${script}@example.com`, password: 'correct horse battery', name: script })
    t.equal(badSignup.statusCode, 400, 'an invalid email on sign-up')
    noScript(t, badSignup, 'the sign-up error page')
    t.match(badSignup.body, escaped, 'the typed values: escaped')

    const target = await new PageBrowser(app).get(authorizeUrl({ ...query, client_id: `${script}` }))
    errorPage(t, target, 'a client_id with markup')
    noScript(t, target, 'the unknown-client page')

    const mediaType = await b.post('/signin', { csrf: 'x' }, { 'content-type': `text/${script}` })
    noScript(t, mediaType, 'an error text about the content type')
    t.ok(mediaType.statusCode >= 400 && mediaType.statusCode < 500, 'a 4xx page')

    const reset = await new PageBrowser(app).get(`/reset-password?${new URLSearchParams({ token: script })}`)
    noScript(t, reset, 'the reset page with a token')
    t.match(reset.body, escaped)

    const logout = await b.get(`/logout?${new URLSearchParams({ state: script, post_logout_redirect_uri: THIRD_BYE })}`)
    t.match(logout.body, 'action="/logout"', 'signed in, no hint: the confirmation page')
    noScript(t, logout, 'the logout confirmation page')
    t.match(logout.body, `value="${escaped}"`, 'state: escaped in its hidden field')
  })

  t.test('every redirect back to a client carries iss', async (t) => {
    // The tests above check iss on each redirect they look at; here the error redirects in a row.
    const b = new PageBrowser(app)
    for (const over of [{ response_type: 'token' }, { code_challenge_method: 'plain' }, { scope: 'unknown-scope' }, { prompt: 'none' }, { prompt: 'bogus' }]) {
      const res = await b.get(
        authorizeUrl({
          response_type: 'code',
          client_id: thirdParty.id,
          redirect_uri: THIRD_CB,
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          state: 's',
          ...over,
        }),
      )
      const p = toClient(t, res, THIRD_CB, JSON.stringify(over))
      t.type(p.error, 'string')
      t.equal(p.state, 's')
    }
  })
})
