// JWKS and discovery, on both database legs.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

eachLeg(t, async (t, leg) => {
  const { app, db, config } = await build(t, leg)

  t.test('a fresh database gets an active and a next RSA key, public members only', async (t) => {
    const res = await app.inject('/.well-known/jwks.json')
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /^application\/json/)
    t.equal(res.headers['cache-control'], 'public, max-age=300, stale-if-error=86400')
    const { keys } = res.json() as { keys: Record<string, string>[] }
    t.equal(keys.length, 2)
    for (const k of keys) {
      t.same(Object.keys(k).sort(), ['alg', 'e', 'kid', 'kty', 'n', 'use'])
      t.match(k, { kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' })
      t.ok(Buffer.from(k.n!, 'base64url').length >= 256, 'modulus is at least 2048 bits')
      for (const m of PRIVATE_MEMBERS) t.notOk(m in k, `no private member ${m}`)
    }
    t.equal(keys[0]!.kid, app.keys.signer.kid, 'the active key is listed first')
    const states = (await db.query<{ state: string }>('SELECT state FROM signing_keys ORDER BY state')).map((r) => r.state)
    t.same(states.sort(), ['active', 'next'])
  })

  t.test('ETag and If-None-Match give 304 with no body', async (t) => {
    const first = await app.inject('/.well-known/jwks.json')
    const etag = first.headers.etag as string
    t.match(etag, /^"[A-Za-z0-9_-]+"$/)
    const again = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': etag } })
    t.equal(again.statusCode, 304)
    t.equal(again.body, '')
    t.equal(again.headers.etag, etag)
    const listed = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': `"other", W/${etag}` } })
    t.equal(listed.statusCode, 304, 'a list of tags and weak comparison match too')
    const stale = await app.inject({ url: '/.well-known/jwks.json', headers: { 'if-none-match': '"stale"' } })
    t.equal(stale.statusCode, 200)
  })

  t.test('a restart on the same database serves the same kids', async (t) => {
    const before = (await app.inject('/.well-known/jwks.json')).json()
    const again = await build(t, leg, { db, config })
    const after = (await again.app.inject('/.well-known/jwks.json')).json()
    t.same(after, before)
    t.equal((await db.query('SELECT kid FROM signing_keys')).length, 2, 'no new keys were made')
  })

  t.test('RFC 8414 metadata at both well-known paths', async (t) => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const res = await app.inject(path)
      t.equal(res.statusCode, 200, path)
      const m = res.json()
      // RFC 8414 §2 REQUIRED members, and OpenID Provider Metadata's (OpenID Connect Discovery §3).
      t.equal(m.issuer, config.issuer)
      t.equal(m.authorization_endpoint, `${config.issuer}/authorize`)
      t.same(m.response_types_supported, ['code'])
      t.same(m.code_challenge_methods_supported, ['S256'])
      t.equal(m.authorization_response_iss_parameter_supported, true)
      t.equal(m.end_session_endpoint, `${config.issuer}/logout`)
      t.same(m.subject_types_supported, ['public'])
      t.same(m.id_token_signing_alg_values_supported, ['RS256'])
      t.equal(m.token_endpoint, `${config.issuer}/token`)
      t.equal(m.jwks_uri, `${config.issuer}/.well-known/jwks.json`)
      t.equal(m.revocation_endpoint, `${config.issuer}/revoke`)
      t.equal(m.introspection_endpoint, `${config.issuer}/introspect`)
      t.equal(m.userinfo_endpoint, `${config.issuer}/userinfo`)
      t.same(m.grant_types_supported, ['authorization_code', 'password', 'refresh_token', 'client_credentials'])
      t.same(m.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none'])
      t.notOk(m.token_endpoint_auth_methods_supported.includes('none') && m.token_endpoint_auth_signing_alg_values_supported.includes('none'))
      // §2: the issuer is an https (or here, local http) URL with no query or fragment.
      t.notMatch(m.issuer, /[?#]/)
      for (const [k, v] of Object.entries(m)) if (k.endsWith('_endpoint') || k === 'jwks_uri') t.ok(String(v).startsWith(config.issuer), k)
    }
  })
})
