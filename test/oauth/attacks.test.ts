// Forged and misused tokens are refused everywhere they could be presented — /me (bearer),
// /introspect and the refresh grant — and none of them ever yields a 500.
import { sign } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { decode, makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')

eachLeg(t, async (t, leg) => {
  const { app, config } = await build(t, leg)
  const client = await makeClient(app)
  const user = await makeUser(app)
  const good = await signIn(app, client, user)
  const at = decode(good.access_token)
  const rt = decode(good.refresh_token!)
  const now = Math.floor(Date.now() / 1000)
  const ours = app.keys.signer
  const attacker = await generateKeyPair('RS256', { extractable: true })
  const attackerJwk = await exportJWK(attacker.publicKey)
  const publicJwk = JSON.parse(app.keys.jwks.body).keys[0]

  /** Signs claims with OUR real key but with extra header members. */
  const signOurs = (payload: object, header: Record<string, unknown> = {}) =>
    new SignJWT({ ...payload }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: ours.kid, ...header }).sign(ours.key)

  /** Signs any header and payload text with OUR real key, as jose would refuse to. */
  const signRaw = (header: object, payload: string) => {
    const input = `${b64(header)}.${Buffer.from(payload).toString('base64url')}`
    return `${input}.${sign('sha256', Buffer.from(input), ours.key).toString('base64url')}`
  }
  const header = { alg: 'RS256', typ: 'at+jwt', kid: ours.kid }
  const [h, p, s] = good.access_token.split('.') as [string, string, string]
  const without = (claim: string) => Object.fromEntries(Object.entries(at.payload).filter(([k]) => k !== claim))

  const forged: [string, string][] = [
    ['alg none', `${b64({ alg: 'none', typ: 'at+jwt', kid: ours.kid })}.${b64(at.payload)}.`],
    [
      'HS256 signed with our RSA public key as the secret',
      await new SignJWT(at.payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: ours.kid }).sign(Buffer.from(JSON.stringify(publicJwk))),
    ],
    [
      'HS256 signed with the modulus bytes',
      await new SignJWT(at.payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: ours.kid }).sign(Buffer.from(publicJwk.n, 'base64url')),
    ],
    ['tampered payload', `${good.access_token.split('.')[0]}.${b64({ ...at.payload, roles: ['admin'] })}.${good.access_token.split('.')[2]}`],
    ['unknown kid', await new SignJWT(at.payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'no-such-kid' }).sign(attacker.privateKey)],
    [
      'hostile kid',
      await new SignJWT(at.payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: "../../keys/encryption.key' OR '1'='1" }).sign(attacker.privateKey),
    ],
    ['no kid', await new SignJWT(at.payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(ours.key)],
    [
      'embedded jwk of the attacker',
      await new SignJWT(at.payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', jwk: attackerJwk }).sign(attacker.privateKey),
    ],
    [
      'jku pointing elsewhere (signed by the attacker)',
      await new SignJWT(at.payload).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'x', jku: 'http://127.0.0.1:9/jwks' }).sign(attacker.privateKey),
    ],
    ['jku header even on our own signature', await signOurs(at.payload, { jku: 'http://127.0.0.1:9/jwks' })],
    ['x5u header', await signOurs(at.payload, { x5u: 'http://127.0.0.1:9/cert.pem' })],
    ['expired', await signOurs({ ...at.payload, iat: now - 3600, exp: now - 60 })],
    ['not yet valid (nbf)', await signOurs({ ...at.payload, nbf: now + 3600 })],
    ['wrong issuer', await signOurs({ ...at.payload, iss: 'https://evil.example.com' })],
    ['wrong typ (plain JWT)', await signOurs(at.payload, { typ: 'JWT' })],
    ['refresh token used as an access token', good.refresh_token!],
    ['not a JWT', 'hello'],
    ['empty segments', '..'],
    // Each of these is signed by our own key: only the claims or the encoding are wrong.
    ['payload a JSON array', signRaw(header, JSON.stringify([at.payload]))],
    ['payload not JSON', signRaw(header, 'not json')],
    ['header not JSON', `${Buffer.from('{"alg":"RS256"').toString('base64url')}.${p}.${s}`],
    ['no exp', await signOurs(without('exp'))],
    ['exp as a string', await signOurs({ ...at.payload, exp: String(now + 3600) })],
    ['no iat', await signOurs(without('iat'))],
    ['no sub', await signOurs(without('sub'))],
    ['sub not a string', await signOurs({ ...at.payload, sub: 42 })],
    ['no jti', await signOurs(without('jti'))],
    ['no client_id', await signOurs(without('client_id'))],
    ['no iss', await signOurs(without('iss'))],
    ['nbf as a string', await signOurs({ ...at.payload, nbf: String(now - 60) })],
    ['crit header', signRaw({ ...header, crit: ['exp'] }, JSON.stringify(at.payload))],
    ['PS256 named in the header', signRaw({ ...header, alg: 'PS256' }, JSON.stringify(at.payload))],
    ['our genuine token with padding added', `${good.access_token}==`],
    ['our genuine token with a fourth segment', `${good.access_token}.${s}`],
    ['a character outside base64url', `${h}.${p}.${s.slice(0, -1)}+`],
    ['a truncated signature', `${h}.${p}.${s.slice(0, 100)}`],
    ['over 8 KiB', `${h}.${p}${'A'.repeat(8192)}.${s}`],
  ]

  t.test('bearer endpoints answer 401 invalid_token per RFC 6750', async (t) => {
    t.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${good.access_token}` } })).statusCode, 200, 'the genuine token works')
    for (const [name, jwt] of forged) {
      const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${jwt}` } })
      t.equal(res.statusCode, 401, name)
      t.equal(res.json().error, 'invalid_token', name)
      t.match(res.headers['www-authenticate'], /^Bearer realm="tessera", error="invalid_token"/, name)
    }
    const none = await app.inject({ url: '/me' })
    t.equal(none.statusCode, 401)
    t.equal(none.headers['www-authenticate'], 'Bearer realm="tessera"', 'no credentials: no error code (RFC 6750 §3.1)')
    const basic = await app.inject({ url: '/me', headers: { authorization: client.basic } })
    t.equal(basic.statusCode, 400)
  })

  t.test('exp is honoured to the second; nbf tolerates a clock skew of up to 30 s, and no more', async (t) => {
    const me = async (jwt: string) => (await app.inject({ url: '/me', headers: { authorization: `Bearer ${jwt}` } })).statusCode
    const now = Math.floor(Date.now() / 1000)
    t.equal(await me(await signOurs({ ...at.payload, exp: now + 5 })), 200, 'expires in 5 s')
    t.equal(await me(await signOurs({ ...at.payload, exp: now })), 401, 'expires now')
    t.equal(await me(await signOurs({ ...at.payload, exp: now - 10 })), 401, 'expired 10 s ago')
    t.equal(await me(await signOurs({ ...at.payload, nbf: now + 10 })), 200, 'valid in 10 s')
    t.equal(await me(await signOurs({ ...at.payload, nbf: now + 45 })), 401, 'valid in 45 s')
  })

  t.test('introspection says inactive', async (t) => {
    for (const [name, jwt] of forged.filter(([n]) => n !== 'refresh token used as an access token')) {
      const res = await post(app, '/introspect', client, { token: jwt })
      t.equal(res.statusCode, 200, name)
      t.same(res.json(), { active: false }, name)
    }
  })

  t.test('the refresh grant refuses forged refresh tokens', async (t) => {
    const signRt = (payload: object, header: Record<string, unknown> = {}) =>
      new SignJWT({ ...payload }).setProtectedHeader({ alg: 'RS256', typ: 'rt+jwt', kid: ours.kid, ...header }).sign(ours.key)
    const cases: [string, string][] = [
      ['alg none', `${b64({ alg: 'none', typ: 'rt+jwt', kid: ours.kid })}.${b64(rt.payload)}.`],
      [
        'tampered sid',
        `${good.refresh_token!.split('.')[0]}.${b64({ ...rt.payload, sid: '00000000-0000-0000-0000-000000000000' })}.${good.refresh_token!.split('.')[2]}`,
      ],
      [
        'signed by the attacker with an embedded jwk',
        await new SignJWT(rt.payload).setProtectedHeader({ alg: 'RS256', typ: 'rt+jwt', jwk: attackerJwk }).sign(attacker.privateKey),
      ],
      ['audience of an API instead of the issuer', await signRt({ ...rt.payload, aud: 'api' })],
      ['expired', await signRt({ ...rt.payload, exp: now - 60 })],
      ['access token presented as a refresh token', good.access_token],
      ['a sid that is not a uuid', await signRt({ ...rt.payload, sid: "1'; DROP TABLE users; --" })],
    ]
    for (const [name, jwt] of cases) {
      const res = await token(app, client, { grant_type: 'refresh_token', refresh_token: jwt })
      t.equal(res.statusCode, 400, name)
      t.equal(res.json().error, 'invalid_grant', name)
    }
    t.equal((await token(app, client, { grant_type: 'refresh_token', refresh_token: good.refresh_token! })).statusCode, 200, 'the genuine token still works')
    t.equal(config.issuer, rt.payload.aud)
  })
})
