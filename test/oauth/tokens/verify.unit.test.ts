// verifyToken: RS256 only, our ring only, typ, iss, aud, nbf (with skew) and exp (exactly) checked.
// Every rejection path in code order, with the reason the log gets and the `expired` flag the
// refresh grant turns into "has expired" rather than "is invalid".
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { epochSeconds } from '../../../src/lib/clock.js'
import { MAX_TOKEN_LENGTH } from '../../../src/oauth/params.js'
import { signJwt } from '../../../src/oauth/tokens/sign.js'
import { readToken, type TokenKind, TokenRejected, type VerifyOptions, verifyToken } from '../../../src/oauth/tokens/verify.js'
import { frozenClock } from '../../helpers/clock.js'
import { b64url, forgeJwt, ISSUER, MemoryKeyRing, rsaKeys, underKid } from '../../helpers/unit.js'

const [main, foreign] = await rsaKeys(2)
const keys = new MemoryKeyRing(
  [underKid(main!, 'k-active'), 'active'],
  [underKid(main!, 'k-retiring'), 'retiring'],
  [underKid(main!, 'k-next'), 'next'],
  [underKid(main!, 'k-retired'), 'retired'],
)
/** How far ahead another instance's clock may run, for nbf only (src/oauth/tokens/verify.ts). */
const CLOCK_SKEW = 30
const NOW = epochSeconds(frozenClock())
const SID = randomUUID()
const opts: VerifyOptions = { keys, issuer: ISSUER, now: NOW, audience: 'api' }

type Json = Record<string, unknown>
const accessHeader: Json = { alg: 'RS256', typ: 'at+jwt', kid: 'k-active' }
const refreshHeader: Json = { alg: 'RS256', typ: 'rt+jwt', kid: 'k-active' }
const accessClaims: Json = { iss: ISSUER, sub: 'user-1', aud: 'api', iat: NOW - 10, exp: NOW + 600, jti: 'jti-1', client_id: 'web', scope: 'read' }
const refreshClaims: Json = { ...accessClaims, aud: ISSUER, sid: SID }

/** A token signed with `main` (or `key`); `undefined` members are left out. */
const access = (claims: Json = {}, header: Json = {}, key = main!.privateKey) => forgeJwt({ ...accessHeader, ...header }, { ...accessClaims, ...claims }, key)
const refresh = (claims: Json = {}, header: Json = {}, key = main!.privateKey) =>
  forgeJwt({ ...refreshHeader, ...header }, { ...refreshClaims, ...claims }, key)

const good = access()
const [gh, gp, gs] = good.split('.') as [string, string, string]

function rejection(token: unknown, kinds: TokenKind[], o: VerifyOptions = opts): TokenRejected | undefined {
  try {
    verifyToken(token as string, kinds, o)
  } catch (err) {
    if (err instanceof TokenRejected) return err
    throw err
  }
  return undefined
}

t.test('every rejection, in code order', async (t) => {
  const A: TokenKind[] = ['access']
  const R: TokenKind[] = ['refresh']
  // [what, token, kinds, reason, options]
  const cases: [string, unknown, TokenKind[], string, VerifyOptions?][] = [
    // length and type
    ['not a string', 12345, A, 'malformed token'],
    ['longer than MAX_TOKEN_LENGTH', `${gh}.${gp}.${gs}${'A'.repeat(MAX_TOKEN_LENGTH)}`.slice(0, MAX_TOKEN_LENGTH + 1), A, 'malformed token'],
    // segments (RFC 7515 §7.1: three, base64url, none empty)
    ['two segments', `${gh}.${gp}`, A, 'malformed token'],
    ['four segments', `${good}.${gs}`, A, 'malformed token'],
    ['an empty signature (unsecured JWS)', `${gh}.${gp}.`, A, 'malformed token'],
    ['base64 "+" rather than base64url', `${gh}.${gp}.${gs.slice(0, -1)}+`, A, 'malformed token'],
    ['base64 padding', `${gh}.${gp}.${gs}=`, A, 'malformed token'],
    ['whitespace', ` ${good}`, A, 'malformed token'],
    // header JSON
    ['a header that is not JSON', `${b64url('not json')}.${gp}.${gs}`, A, 'malformed token'],
    ['a header that is a JSON array', `${b64url('["RS256"]')}.${gp}.${gs}`, A, 'malformed token'],
    ['a header that is JSON null', `${b64url('null')}.${gp}.${gs}`, A, 'malformed token'],
    ['a header that is a JSON string', `${b64url('"RS256"')}.${gp}.${gs}`, A, 'malformed token'],
    // forbidden headers: never a key the token names itself (RFC 8725 §3.10), no crit extensions
    ['jku', access({}, { jku: 'https://evil.test/jwks' }), A, 'header jku is not accepted'],
    ['x5u', access({}, { x5u: 'https://evil.test/cert' }), A, 'header x5u is not accepted'],
    ['jwk', access({}, { jwk: { kty: 'RSA', n: 'x', e: 'AQAB' } }), A, 'header jwk is not accepted'],
    ['x5c', access({}, { x5c: ['MIIB'] }), A, 'header x5c is not accepted'],
    ['crit', access({}, { crit: ['exp'] }), A, 'header crit is not accepted'],
    ['jku on a refresh token', refresh({}, { jku: 'https://evil.test/jwks' }), R, 'header jku is not accepted'],
    // alg (RFC 8725 §3.1)
    ['alg none', `${b64url({ ...accessHeader, alg: 'none' })}.${gp}.${gs}`, A, 'algorithm not accepted'],
    ['alg HS256 (the public key as an HMAC secret)', access({}, { alg: 'HS256' }), A, 'algorithm not accepted'],
    ['alg RS512', access({}, { alg: 'RS512' }), A, 'algorithm not accepted'],
    ['alg PS256', access({}, { alg: 'PS256' }), A, 'algorithm not accepted'],
    ['alg rs256 (case matters)', access({}, { alg: 'rs256' }), A, 'algorithm not accepted'],
    ['no alg', access({}, { alg: undefined }), A, 'algorithm not accepted'],
    // typ against the kinds asked for
    ['an access token where a refresh token is asked for', access(), R, 'wrong token type'],
    ['a refresh token where an access token is asked for', refresh(), A, 'wrong token type'],
    ['typ JWT', access({}, { typ: 'JWT' }), ['access', 'refresh'], 'wrong token type'],
    ['typ application/at+jwt', access({}, { typ: 'application/at+jwt' }), A, 'wrong token type'],
    ['no typ', access({}, { typ: undefined }), ['access', 'refresh'], 'wrong token type'],
    // kid and key state
    ['an unknown kid', access({}, { kid: 'k-unknown' }), A, 'unknown signing key'],
    ['no kid', access({}, { kid: undefined }), A, 'unknown signing key'],
    ['a kid that is not a string', access({}, { kid: 7 }), A, 'unknown signing key'],
    ['an access token of a retired key', access({}, { kid: 'k-retired' }), A, 'unknown signing key'],
    // signature
    ['signed by a key not in the ring, under our kid', access({}, {}, foreign!.privateKey), A, 'signature verification failed'],
    ['a payload swapped under a good signature', `${gh}.${b64url({ ...accessClaims, sub: 'admin' })}.${gs}`, A, 'signature verification failed'],
    ['a truncated signature', `${gh}.${gp}.${gs.slice(0, 40)}`, A, 'signature verification failed'],
    ['a refresh token signed by a foreign key', refresh({}, {}, foreign!.privateKey), R, 'signature verification failed'],
    // payload (only on a payload we signed)
    ['a payload that is not JSON', forgeJwt(accessHeader, 'not json', main!.privateKey), A, 'malformed token'],
    ['a wrong issuer', access({ iss: 'https://evil.test' }), A, 'wrong issuer'],
    ['an issuer with a trailing slash', access({ iss: `${ISSUER}/` }), A, 'wrong issuer'],
    ['no issuer', access({ iss: undefined }), A, 'wrong issuer'],
    ['no sub', access({ sub: undefined }), A, 'claim sub missing'],
    ['a numeric sub', access({ sub: 42 }), A, 'claim sub missing'],
    ['no jti', access({ jti: undefined }), A, 'claim jti missing'],
    ['no client_id', access({ client_id: undefined }), A, 'claim client_id missing'],
    ['a client_id that is an array', access({ client_id: ['web'] }), A, 'claim client_id missing'],
    ['no exp', access({ exp: undefined }), A, 'claim exp or iat missing'],
    ['exp as a string', access({ exp: String(NOW + 600) }), A, 'claim exp or iat missing'],
    ['no iat', access({ iat: undefined }), A, 'claim exp or iat missing'],
    // nbf: the one claim with a skew
    [`nbf ${CLOCK_SKEW + 1} s ahead`, access({ nbf: NOW + CLOCK_SKEW + 1 }), A, 'not yet valid'],
    ['nbf not a number', access({ nbf: 'now' }), A, 'not yet valid'],
    ['nbf null', access({ nbf: null }), A, 'not yet valid'],
    // audience
    ['another audience', access({ aud: 'other-api' }), A, 'wrong audience'],
    ['no aud when one is required', access({ aud: undefined }), A, 'wrong audience'],
    ['an aud array without ours', access({ aud: ['a', 'b'] }), A, 'wrong audience'],
    ['a refresh token for an API audience', refresh({ aud: 'api' }), R, 'wrong audience'],
    ['a refresh token for an API audience, that audience asked', refresh({ aud: 'api' }), R, 'wrong audience', opts],
    ['a refresh token with no aud', refresh({ aud: undefined }), R, 'wrong audience', { ...opts, audience: undefined }],
    // sid of refresh tokens
    ['a refresh token without sid', refresh({ sid: undefined }), R, 'refresh token without a valid sid'],
    ['a refresh token whose sid is not a uuid', refresh({ sid: 'family-1' }), R, 'refresh token without a valid sid'],
    ['a refresh token whose sid is a number', refresh({ sid: 1 }), R, 'refresh token without a valid sid'],
    // exp, honoured to the second (RFC 7519 §4.1.4: not on or after)
    ['an access token at exp', access({ exp: NOW }), A, 'token expired'],
    ['an access token after exp', access({ exp: NOW - 3600 }), A, 'token expired'],
    ['a refresh token at exp', refresh({ exp: NOW }), R, 'token expired'],
  ]
  for (const [what, token, kinds, reason, o] of cases) {
    const err = rejection(token, kinds, o)
    t.equal(err?.reason, reason, what)
    t.equal(err?.expired, reason === 'token expired', `${what}: expired flag`)
  }
})

t.test('accepted', async (t) => {
  const cases: [string, string, TokenKind[], VerifyOptions?][] = [
    ['an access token of the active key', access(), ['access']],
    ['of a retiring key', access({}, { kid: 'k-retiring' }), ['access']],
    ['of a next key (another instance promoted it first)', access({}, { kid: 'k-next' }), ['access']],
    ['a refresh token of the active key', refresh(), ['refresh']],
    ['a refresh token of a retiring key', refresh({}, { kid: 'k-retiring' }), ['refresh']],
    ['a refresh token of a next key', refresh({}, { kid: 'k-next' }), ['refresh']],
    ['a refresh token of a retired key (out of the JWKS, still ours)', refresh({}, { kid: 'k-retired' }), ['refresh']],
    ['either kind asked for', refresh(), ['access', 'refresh']],
    [`nbf exactly ${CLOCK_SKEW} s ahead (within the skew)`, access({ nbf: NOW + CLOCK_SKEW }), ['access']],
    ['nbf in the past', access({ nbf: NOW - 1 }), ['access']],
    ['an aud array with ours', access({ aud: ['other', 'api'] }), ['access']],
    ['any aud when none is required', access({ aud: 'whatever' }), ['access'], { ...opts, audience: undefined }],
    ['one second before exp', access({ exp: NOW + 1 }), ['access']],
    ['a refresh token one second before exp', refresh({ exp: NOW + 1 }), ['refresh']],
  ]
  for (const [what, token, kinds, o] of cases) t.equal(rejection(token, kinds, o), undefined, what)

  const v = verifyToken(refresh({}, { kid: 'k-retired' }), ['access', 'refresh'], opts)
  t.equal(v.kind, 'refresh')
  t.equal(v.kid, 'k-retired')
  t.same(v.claims, refreshClaims, 'the claims as signed')
})

t.test('a token Tessera signs verifies (signJwt and verifyToken agree)', async (t) => {
  const token = await signJwt({ iss: ISSUER, sub: 'u', aud: 'api', iat: NOW, exp: NOW + 60, jti: 'j', client_id: 'web', scope: 'read' }, 'at+jwt', keys.signer)
  t.equal(verifyToken(token, ['access'], opts).claims.sub, 'u')
})

t.test('exp is checked after everything else', async (t) => {
  // A forged or foreign token must not be told apart as "expired": the refresh grant would say so.
  const cases: [string, string, TokenKind[], string][] = [
    ['expired and forged', access({ exp: NOW - 1 }, {}, foreign!.privateKey), ['access'], 'signature verification failed'],
    ['expired and of another issuer', access({ exp: NOW - 1, iss: 'https://evil.test' }), ['access'], 'wrong issuer'],
    ['expired and of another audience', access({ exp: NOW - 1, aud: 'other' }), ['access'], 'wrong audience'],
    ['expired and without a sid', refresh({ exp: NOW - 1, sid: undefined }), ['refresh'], 'refresh token without a valid sid'],
  ]
  for (const [what, token, kinds, reason] of cases) {
    const err = rejection(token, kinds)
    t.equal(err?.reason, reason, what)
    t.equal(err?.expired, false, `${what}: not flagged expired`)
  }
})

t.test('a key changing state changes the answer at once', async (t) => {
  const ring = new MemoryKeyRing([underKid(main!, 'k'), 'active'])
  const o = { ...opts, keys: ring }
  const a = access({}, { kid: 'k' })
  const r = refresh({}, { kid: 'k' })
  ring.setState('k', 'retired')
  t.equal(rejection(a, ['access'], o)?.reason, 'unknown signing key', 'retired: access tokens no longer verify')
  t.equal(rejection(r, ['refresh'], o), undefined, 'retired: refresh tokens still do')
  ring.remove('k')
  t.equal(rejection(r, ['refresh'], o)?.reason, 'unknown signing key', 'removed: nothing verifies')
})

t.test('readToken: undefined instead of a rejection', async (t) => {
  t.equal(readToken(access(), ['access'], opts)?.claims.jti, 'jti-1')
  t.equal(readToken('garbage', ['access'], opts), undefined)
  t.equal(readToken(access({ exp: NOW }), ['access'], opts), undefined, 'expired')
  t.equal(readToken(access(), ['refresh'], opts), undefined, 'wrong kind')
  t.equal(readToken(access({}, {}, foreign!.privateKey), ['access'], opts), undefined, 'forged')
  // Anything else is a bug, not an invalid token, and is not swallowed.
  const broken = {
    verificationKey: () => {
      throw new Error('ring exploded')
    },
  }
  t.throws(() => readToken(access(), ['access'], { ...opts, keys: broken }), { message: 'ring exploded' })
})
