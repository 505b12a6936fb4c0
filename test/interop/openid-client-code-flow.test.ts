// Interoperability (issue 18, "Done means"): openid-client v6 runs the whole authorization code
// flow with PKCE against a really listening Tessera, unchanged: discovery, the authorization URL
// (PKCE, nonce, state), the code exchange with its ID-token checks (signature, iss, aud, nonce,
// at_hash), userinfo, refresh, and RP-initiated logout. The browser part goes through the pages.
import * as client from 'openid-client'
import t from 'tap'
import { createAccount } from '../../src/accounts/accounts.js'
import { registerClient } from '../../src/clients/registration.js'
import { eachLeg } from '../helpers/build.js'
import { PageBrowser, pageOf } from '../helpers/pages.js'
import { listeningTessera } from './listen.js'

const REDIRECT = 'http://127.0.0.1:9/callback'
const AFTER_LOGOUT = 'http://127.0.0.1:9/signed-out'

eachLeg(t, async (t, leg) => {
  const { app, issuer } = await listeningTessera(t, leg)
  const { client: registered } = await registerClient(
    app.stores.clients,
    {
      name: 'Photo Book',
      grantTypes: ['authorization_code', 'refresh_token'],
      scopes: ['openid', 'email', 'profile'],
      public: true,
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [AFTER_LOGOUT],
    },
    { issuer },
  )
  const password = 'correct horse battery'
  const user = { ...(await createAccount(app.stores.users, { email: 'grace@example.com', password, name: 'Grace Hopper' })), password }
  // A public client (token_endpoint_auth_method none); plain http only because this is loopback.
  const config = await client.discovery(new URL(issuer), registered.id, undefined, client.None(), { execute: [client.allowInsecureRequests] })

  t.test('discovery: full OpenID Provider Metadata', async (t) => {
    const m = config.serverMetadata()
    t.equal(m.issuer, issuer)
    t.equal(m.authorization_endpoint, `${issuer}/authorize`)
    t.equal(m.end_session_endpoint, `${issuer}/logout`)
    t.same(m.response_types_supported, ['code'])
    t.same(m.code_challenge_methods_supported, ['S256'])
    t.same(m.id_token_signing_alg_values_supported, ['RS256'])
    t.ok(m.subject_types_supported?.length)
    t.equal(m.authorization_response_iss_parameter_supported, true)
    t.ok(m.grant_types_supported?.includes('authorization_code'))
    for (const claim of ['sub', 'email', 'email_verified', 'name', 'nonce', 'at_hash', 'auth_time', 'sid']) t.ok(m.claims_supported?.includes(claim), claim)
    t.equal(m.supportsPKCE(), true, 'openid-client sees S256 PKCE support')
  })

  t.test('the code flow, userinfo, refresh and logout', async (t) => {
    const verifier = client.randomPKCECodeVerifier()
    const nonce = client.randomNonce()
    const state = client.randomState()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
    })
    t.equal(url.origin, issuer)
    t.equal(url.pathname, '/authorize')

    // The browser: /authorize → sign-in page → consent page → back to the client with a code.
    const b = new PageBrowser(app)
    let res = await b.visit(`${url.pathname}${url.search}`)
    t.equal(pageOf(res), 'signin', 'the sign-in page')
    res = await b.signIn(res, user)
    t.equal(pageOf(res), 'consent', 'a third-party client: the consent page')
    t.match(res.body, 'Photo Book')
    res = await b.consent(res)
    t.equal(res.statusCode, 303)
    const callback = new URL(String(res.headers.location))
    t.equal(`${callback.origin}${callback.pathname}`, REDIRECT, 'back to the redirect URI')

    // openid-client checks state and iss (RFC 9207), the ID token's signature, iss, aud, exp,
    // nonce and at_hash; a failure of any of them throws.
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedNonce: nonce,
      expectedState: state,
      idTokenExpected: true,
    })
    t.equal(tokens.token_type, 'bearer')
    t.type(tokens.refresh_token, 'string')
    t.type(tokens.id_token, 'string')
    const claims = tokens.claims()!
    t.equal(claims.sub, user.id)
    t.equal(claims.aud, registered.id)
    t.equal(claims.iss, issuer)
    t.equal(claims.nonce, nonce)
    t.equal(claims.email, user.email)
    t.type(claims.auth_time, 'number')
    t.type(claims.sid, 'string')

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub)
    t.equal(info.sub, user.id)
    t.equal(info.email, user.email)
    t.equal(info.email_verified, false)
    t.equal(info.name, 'Grace Hopper', 'name by the profile scope')
    t.equal(claims.name, 'Grace Hopper', 'name in the ID token too')
    const mismatch = await client.fetchUserInfo(config, tokens.access_token, 'someone-else').catch((e: unknown) => e)
    t.ok(mismatch instanceof Error, 'openid-client refuses a userinfo sub that is not the expected one (it checks)')

    // openid-client's refresh validates the new ID token too (same iss, sub, aud; no nonce).
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!)
    t.type(refreshed.id_token, 'string', 'a new ID token after the refresh')
    t.not(refreshed.refresh_token, tokens.refresh_token, 'the refresh token rotated')
    const again = refreshed.claims()!
    t.equal(again.sub, user.id)
    t.equal(again.auth_time, claims.auth_time)
    t.notOk('nonce' in again, 'no nonce after a refresh')
    t.equal((await client.fetchUserInfo(config, refreshed.access_token, user.id)).sub, user.id)

    // RP-initiated logout: with id_token_hint and the registered post_logout_redirect_uri.
    const logoutState = client.randomState()
    const end = client.buildEndSessionUrl(config, { id_token_hint: refreshed.id_token!, post_logout_redirect_uri: AFTER_LOGOUT, state: logoutState })
    t.equal(`${end.origin}${end.pathname}`, `${issuer}/logout`)
    const oldCookies = b.cookieHeader
    const out = await b.get(`${end.pathname}${end.search}`)
    t.equal(out.statusCode, 303, 'logout redirects')
    const back = new URL(String(out.headers.location))
    t.equal(`${back.origin}${back.pathname}`, AFTER_LOGOUT, 'to the registered post_logout_redirect_uri')
    t.equal(back.searchParams.get('state'), logoutState, 'with the state')

    // The session is over: the next /authorize sends to the sign-in page, even with the old cookie.
    const next = await b.get(`${url.pathname}${url.search}`)
    t.equal(next.statusCode, 303)
    t.match(String(next.headers.location), /^\/signin\?/, 'the next /authorize sends to /signin')
    const replayed = await app.inject({ url: `${url.pathname}${url.search}`, headers: { cookie: oldCookies } })
    t.match(String(replayed.headers.location), /^\/signin\?/, 'the session cookie from before the logout no longer works')
    // …and the families started from that session are revoked.
    const dead = await client.refreshTokenGrant(config, refreshed.refresh_token!).catch((e: unknown) => e)
    t.ok(dead instanceof client.ResponseBodyError, 'the refresh token of the session is refused')
    t.equal((dead as client.ResponseBodyError).error, 'invalid_grant')
    const gone = await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${refreshed.access_token}` } })
    t.equal(gone.statusCode, 401, "the session's access token is refused by /userinfo")
  })
})
