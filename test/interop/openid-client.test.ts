// Interoperability: openid-client v6 (a certified OAuth 2 / OpenID client, on oauth4webapi)
// drives a really listening Tessera: discovery, client_credentials, password then refresh,
// userinfo, revocation (RFC 7009) and introspection (RFC 7662).
import * as client from 'openid-client'
import t from 'tap'
import { eachLeg } from '../helpers/build.js'
import { decode, makeClient, makeUser } from '../helpers/factories.js'
import { listeningTessera } from './listen.js'

eachLeg(t, async (t, leg) => {
  const { app, issuer } = await listeningTessera(t, leg)
  const registered = await makeClient(app)
  const user = await makeUser(app)
  // Plain http is allowed only because this is loopback in a test.
  const discover = (auth?: client.ClientAuth, secret = registered.secret) =>
    client.discovery(new URL(issuer), registered.id, secret, auth, { execute: [client.allowInsecureRequests] })
  const config = await discover()

  t.test('discovery: openid-client accepts the metadata and its issuer', async (t) => {
    const m = config.serverMetadata()
    t.equal(m.issuer, issuer)
    t.equal(m.token_endpoint, `${issuer}/token`)
    t.equal(m.jwks_uri, `${issuer}/.well-known/jwks.json`)
    t.equal(m.revocation_endpoint, `${issuer}/revoke`)
    t.equal(m.introspection_endpoint, `${issuer}/introspect`)
    t.same(m.grant_types_supported, ['authorization_code', 'password', 'refresh_token', 'client_credentials'])
    // The RFC 8414 document too, not only the OpenID one.
    const oauth2 = await client.discovery(new URL(issuer), registered.id, registered.secret, undefined, {
      execute: [client.allowInsecureRequests],
      algorithm: 'oauth2',
    })
    t.same(oauth2.serverMetadata(), m)
  })

  t.test('client_credentials (client_secret_post and client_secret_basic)', async (t) => {
    for (const [name, cfg] of [
      ['client_secret_post', config],
      ['client_secret_basic', await discover(client.ClientSecretBasic(registered.secret))],
    ] as const) {
      const res = await client.clientCredentialsGrant(cfg, { scope: 'read' })
      t.equal(res.token_type, 'bearer', `${name}: a Bearer token`)
      t.equal(res.expires_in, 900, `${name}: expires_in is a number of seconds`)
      t.equal(res.scope, 'read', name)
      t.equal(res.refresh_token, undefined, `${name}: no refresh token (RFC 6749 §4.4.3)`)
      t.match(decode(res.access_token).payload, { sub: registered.id, aud: 'api', scope: 'read', iss: issuer }, name)
    }
  })

  t.test('a wrong client secret: invalid_client, 401, reported by openid-client as a WWW-Authenticate challenge', async (t) => {
    const wrong = await discover(undefined, 'not-the-secret')
    const err = await client.clientCredentialsGrant(wrong).catch((e: unknown) => e)
    // RFC 6749 §5.2 + RFC 9110 §15.5.2: a 401 carries WWW-Authenticate; openid-client then
    // throws WWWAuthenticateChallengeError rather than ResponseBodyError.
    t.ok(err instanceof client.WWWAuthenticateChallengeError, 'a WWWAuthenticateChallengeError')
    const challenge = err as client.WWWAuthenticateChallengeError
    t.equal(challenge.status, 401)
    t.equal(challenge.cause[0]?.scheme, 'basic')
    t.equal(((await challenge.response.json()) as { error: string }).error, 'invalid_client')
  })

  t.test('password, refresh, userinfo, revocation and introspection', async (t) => {
    const first = await client.genericGrantRequest(config, 'password', { username: user.email, password: user.password, scope: 'openid read' })
    t.equal(first.token_type, 'bearer')
    t.equal(first.scope, 'openid read')
    t.equal(first.expires_in, 900, 'expires_in is a number of seconds')
    t.type(first.refresh_token, 'string', 'the password grant gave a refresh token')
    t.equal(decode(first.access_token).payload.sub, user.id)

    const info = await client.fetchUserInfo(config, first.access_token, user.id)
    // OpenID Connect Core §5.4: `openid read` asks for no claim beyond sub (no `email`, no `profile`).
    t.same(info, { sub: user.id })

    const second = await client.refreshTokenGrant(config, first.refresh_token!)
    t.type(second.refresh_token, 'string')
    t.not(second.refresh_token, first.refresh_token, 'the refresh token rotated')
    t.not(second.access_token, first.access_token)
    t.equal(second.scope, 'openid read')
    const sid = decode(second.access_token).payload.sid
    t.equal(decode(first.access_token).payload.sid, sid, 'same family')

    const live = await client.tokenIntrospection(config, second.access_token)
    t.match(live, { active: true, sub: user.id, client_id: registered.id, scope: 'openid read', aud: 'api', iss: issuer, sid })
    t.match(await client.tokenIntrospection(config, second.refresh_token!), { active: true, sid })
    t.match(await client.tokenIntrospection(config, first.refresh_token!), { active: false }, 'the spent refresh token is not active')

    await client.tokenRevocation(config, second.refresh_token!, { token_type_hint: 'refresh_token' })

    t.same(await client.tokenIntrospection(config, second.refresh_token!), { active: false }, 'the revoked refresh token is inactive')
    t.same(await client.tokenIntrospection(config, second.access_token), { active: false }, "the family's latest access token is inactive")
    t.same(await client.tokenIntrospection(config, first.access_token), { active: false }, "the family's first access token is inactive")

    const err = await client.refreshTokenGrant(config, second.refresh_token!).catch((e: unknown) => e)
    t.ok(err instanceof client.ResponseBodyError, 'a ResponseBodyError')
    t.equal((err as client.ResponseBodyError).error, 'invalid_grant')
    t.equal((err as client.ResponseBodyError).status, 400)
  })

  t.test('revoking an access token leaves its family usable', async (t) => {
    const tokens = await client.genericGrantRequest(config, 'password', { username: user.email, password: user.password, scope: 'read' })
    await client.tokenRevocation(config, tokens.access_token, { token_type_hint: 'access_token' })
    t.same(await client.tokenIntrospection(config, tokens.access_token), { active: false })
    t.match(await client.tokenIntrospection(config, tokens.refresh_token!), { active: true })
    const next = await client.refreshTokenGrant(config, tokens.refresh_token!)
    t.match(await client.tokenIntrospection(config, next.access_token), { active: true, sub: user.id })
  })

  t.test('a wrong password: invalid_grant as a ResponseBodyError', async (t) => {
    const err = await client.genericGrantRequest(config, 'password', { username: user.email, password: 'not the password' }).catch((e: unknown) => e)
    t.ok(err instanceof client.ResponseBodyError)
    t.equal((err as client.ResponseBodyError).error, 'invalid_grant')
  })
})
