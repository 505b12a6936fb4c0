// Interoperability: resource servers built the way the tutorials build them, verifying
// Tessera's tokens against its JWKS over real HTTP.
//   1. express + express-jwt + jwks-rsa (the Express tutorials' stack);
//   2. jose's createRemoteJWKSet + jwtVerify with the RFC 9068 `typ` check.
// Both must accept Tessera's access tokens and refuse its refresh tokens (docs/tokens.md#verifying-access-tokens).
import { createServer } from 'node:http'
import express, { type NextFunction, type Response } from 'express'
import { expressjwt, type Request as JwtRequest, UnauthorizedError } from 'express-jwt'
import { createRemoteJWKSet, errors, jwtVerify } from 'jose'
import jwksRsa from 'jwks-rsa'
import t from 'tap'
import { eachLeg } from '../helpers/build.js'
import { decode, makeClient, makeUser } from '../helpers/factories.js'
import { listeningTessera, listenOnLoopback, tokenOverHttp } from './listen.js'

/** Changes one claim of a JWT and keeps the original signature: what an attacker would try. */
function tamper(jwt: string, change: Record<string, unknown>): string {
  const [h, p, s] = jwt.split('.')
  const payload = { ...JSON.parse(Buffer.from(p!, 'base64url').toString()), ...change }
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`
}

/** The Express resource server of the tutorials: one route behind express-jwt, keys from the JWKS. */
function expressApi(issuer: string, jwksUri: string) {
  const api = express()
  api.get(
    '/api/whoami',
    expressjwt({
      secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 }),
      audience: 'api',
      issuer,
      algorithms: ['RS256'],
    }),
    (req: JwtRequest, res: Response) => {
      res.json({ sub: req.auth?.sub, scope: req.auth?.scope, client_id: req.auth?.client_id })
    },
  )
  // The tutorials' error handler: express-jwt's UnauthorizedError becomes a 401.
  api.use((err: unknown, _req: unknown, res: Response, next: NextFunction) => {
    if (err instanceof UnauthorizedError) return void res.status(err.status).json({ error: err.code, message: err.message })
    next(err)
  })
  return api
}

eachLeg(t, async (t, leg) => {
  const { app, issuer } = await listeningTessera(t, leg)
  // A resource server learns the JWKS address from the discovery document, as a real one would.
  const metadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string; issuer: string }
  t.equal(metadata.issuer, issuer, 'the discovery document names the URL we listen on')
  const jwksUri = metadata.jwks_uri

  const client = await makeClient(app)
  const user = await makeUser(app)
  const signIn = () => tokenOverHttp(issuer, client, { grant_type: 'password', username: user.email, password: user.password, scope: 'openid read' })

  t.test('express + express-jwt + jwks-rsa', async (t) => {
    const api = await listenOnLoopback(t, createServer(expressApi(issuer, jwksUri)))
    const call = async (authorization?: string) => {
      const res = await fetch(`${api}/api/whoami`, { headers: authorization ? { authorization } : {} })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }

    t.test('a password-grant access token is accepted; the route sees sub and scope', async (t) => {
      const tokens = await signIn()
      const res = await call(`Bearer ${tokens.access_token}`)
      t.equal(res.status, 200)
      t.same(res.body, { sub: user.id, scope: 'openid read', client_id: client.id })
    })

    t.test('a client_credentials access token is accepted; sub is the client', async (t) => {
      const tokens = await tokenOverHttp(issuer, client, { grant_type: 'client_credentials', scope: 'read write' })
      const res = await call(`Bearer ${tokens.access_token}`)
      t.equal(res.status, 200)
      t.same(res.body, { sub: client.id, scope: 'read write', client_id: client.id })
    })

    t.test('our refresh token used as a bearer token is refused (its aud is the issuer)', async (t) => {
      const { refresh_token } = await signIn()
      t.ok(refresh_token, 'the password grant gave a refresh token')
      const res = await call(`Bearer ${refresh_token}`)
      t.equal(res.status, 401)
      t.equal(res.body.error, 'invalid_token')
      t.match(res.body.message, /audience invalid/, 'refused for its audience')
    })

    t.test('no token is refused', async (t) => {
      const res = await call()
      t.equal(res.status, 401)
      t.equal(res.body.error, 'credentials_required')
    })

    t.test('a token with a tampered payload is refused', async (t) => {
      const { access_token } = await signIn()
      const forged = tamper(access_token, { sub: 'someone-else', scope: 'openid read admin' })
      const res = await call(`Bearer ${forged}`)
      t.equal(res.status, 401)
      t.equal(res.body.error, 'invalid_token')
      t.match(res.body.message, /invalid signature/)
      t.equal((await call(`Bearer ${access_token}`)).status, 200, 'the untouched token still passes')
    })

    t.test('an access token for another API is refused by this one', async (t) => {
      const billing = await makeClient(app, { grantTypes: ['client_credentials'], audience: 'billing' })
      const { access_token } = await tokenOverHttp(issuer, billing, { grant_type: 'client_credentials' })
      t.equal(decode(access_token).payload.aud, 'billing')
      const res = await call(`Bearer ${access_token}`)
      t.equal(res.status, 401)
      t.match(res.body.message, /audience invalid/)
    })
  })

  t.test('jose createRemoteJWKSet + jwtVerify (RFC 9068 typ check)', async (t) => {
    const jwks = createRemoteJWKSet(new URL(jwksUri))
    const asApi = { issuer, audience: 'api', typ: 'at+jwt', algorithms: ['RS256'] }

    t.test('access tokens of both grants are accepted', async (t) => {
      const user_ = await signIn()
      const { payload, protectedHeader } = await jwtVerify(user_.access_token, jwks, asApi)
      t.equal(protectedHeader.typ, 'at+jwt')
      t.match(payload, { iss: issuer, aud: 'api', sub: user.id, scope: 'openid read', client_id: client.id, roles: ['user'] })
      t.type(payload.sid, 'string', 'a user token names its refresh family')

      const cc = await tokenOverHttp(issuer, client, { grant_type: 'client_credentials', scope: 'read' })
      const verified = await jwtVerify(cc.access_token, jwks, asApi)
      t.match(verified.payload, { sub: client.id, scope: 'read', aud: 'api' })
      t.notOk('roles' in verified.payload, 'a client token has no user roles')
    })

    t.test('refresh tokens are refused, by typ and (without the typ check) by aud', async (t) => {
      const { refresh_token } = await signIn()
      t.ok(refresh_token)
      const refresh = refresh_token!
      const { header, payload } = decode(refresh)
      t.equal(header.typ, 'rt+jwt')
      t.equal(payload.aud, issuer, 'a refresh token is addressed to the issuer, not to an API')

      await t.rejects(jwtVerify(refresh, jwks, asApi), errors.JWTClaimValidationFailed, 'refused with the typ check')
      // A resource server that forgot the typ check still refuses it, for its audience.
      const noTyp = { issuer, audience: 'api', algorithms: ['RS256'] }
      const err = await jwtVerify(refresh, jwks, noTyp).catch((e: unknown) => e)
      t.ok(err instanceof errors.JWTClaimValidationFailed)
      t.equal((err as errors.JWTClaimValidationFailed).claim, 'aud')
      // And with only the typ check (audience = the issuer, wrongly), typ alone refuses it.
      const typOnly = await jwtVerify(refresh, jwks, { issuer, audience: issuer, typ: 'at+jwt' }).catch((e: unknown) => e)
      t.ok(typOnly instanceof errors.JWTClaimValidationFailed)
      t.equal((typOnly as errors.JWTClaimValidationFailed).claim, 'typ')
    })

    t.test('a tampered token is refused', async (t) => {
      const { access_token } = await signIn()
      await t.rejects(jwtVerify(tamper(access_token, { scope: 'openid read admin' }), jwks, asApi), errors.JWSSignatureVerificationFailed)
    })
  })
})
