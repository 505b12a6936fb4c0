// Correctness of sample answers: a fast wrong answer is no result. Each check throws on the
// first thing that is not as Tessera's contract says, and returns a one-line description.
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose'

export interface Target {
  base: string
  issuer: string
  audience: string
}

type Keys = ReturnType<typeof createLocalJWKSet>

function assert(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Error(`check failed: ${what}`)
}

export async function fetchJwks(t: Target): Promise<{ body: string; keys: Keys; etag: string | null; contentType: string | null; status: number }> {
  const res = await fetch(`${t.base}/.well-known/jwks.json`)
  const body = await res.text()
  return {
    body,
    keys: createLocalJWKSet(JSON.parse(body) as JSONWebKeySet),
    etag: res.headers.get('etag'),
    contentType: res.headers.get('content-type'),
    status: res.status,
  }
}

export async function checkJwks(t: Target): Promise<string> {
  const jwks = await fetchJwks(t)
  assert(jwks.status === 200, `JWKS status ${jwks.status}`)
  assert(jwks.contentType?.startsWith('application/json'), `JWKS content-type ${jwks.contentType}`)
  assert(jwks.etag, 'JWKS has an ETag')
  const { keys } = JSON.parse(jwks.body) as { keys: { kty: string; alg: string; kid: string; use: string; d?: string }[] }
  assert(keys.length > 0, 'JWKS lists at least one key')
  for (const k of keys)
    assert(k.kty === 'RSA' && k.alg === 'RS256' && k.use === 'sig' && k.kid && k.d === undefined, `JWKS key ${k.kid} is a public RS256 signing key`)
  const again = await fetch(`${t.base}/.well-known/jwks.json`, { headers: { 'if-none-match': jwks.etag } })
  assert(again.status === 304, `JWKS answers 304 to its own ETag (got ${again.status})`)
  return `${keys.length} public RS256 keys, ETag ${jwks.etag}, 304 on If-None-Match`
}

async function verify(token: unknown, keys: Keys, t: Target, typ: 'at+jwt' | 'rt+jwt', audience: string): Promise<JWTPayload> {
  assert(typeof token === 'string', `${typ} present`)
  const { payload, protectedHeader } = await jwtVerify(token, keys, { algorithms: ['RS256'], issuer: t.issuer, audience, typ })
  assert(protectedHeader.kid, `${typ} has a kid`)
  for (const claim of ['sub', 'jti', 'iat', 'exp', 'client_id']) assert(payload[claim] !== undefined, `${typ} carries ${claim}`)
  return payload
}

interface TokenBody {
  access_token?: unknown
  refresh_token?: unknown
  token_type?: unknown
  expires_in?: unknown
  scope?: unknown
}

/** A client_credentials answer: a Bearer access token for the client itself. */
export async function checkClientCredentials(body: string, t: Target, clientId: string): Promise<string> {
  const { keys } = await fetchJwks(t)
  const b = JSON.parse(body) as TokenBody
  assert(b.token_type === 'Bearer' && typeof b.expires_in === 'number', 'token_type Bearer and expires_in')
  assert(b.refresh_token === undefined, 'no refresh token for client_credentials (RFC 6749 §4.4.3)')
  const at = await verify(b.access_token, keys, t, 'at+jwt', t.audience)
  assert(at.sub === clientId && at.client_id === clientId, 'sub and client_id are the client')
  return `access token verifies against the JWKS (typ at+jwt, aud ${t.audience}, sub = client)`
}

/** A password or refresh answer: an access token and a refresh token of the same family, for `userId`. */
export async function checkUserTokens(body: string, t: Target, clientId: string, userId?: string): Promise<{ note: string; sid: string; jti: string }> {
  const { keys } = await fetchJwks(t)
  const b = JSON.parse(body) as TokenBody
  assert(b.token_type === 'Bearer', 'token_type Bearer')
  const at = await verify(b.access_token, keys, t, 'at+jwt', t.audience)
  const rt = await verify(b.refresh_token, keys, t, 'rt+jwt', t.issuer)
  assert(typeof rt.sid === 'string' && rt.sid === at.sid, 'access and refresh token name the same family (sid)')
  assert(rt.client_id === clientId && at.client_id === clientId, 'client_id is the client')
  if (userId !== undefined) assert(at.sub === userId && rt.sub === userId, 'sub is the user')
  return { note: 'access and refresh tokens verify against the JWKS, same sid', sid: rt.sid as string, jti: rt.jti as string }
}

export async function checkIntrospection(body: string, userId: string, clientId: string): Promise<string> {
  const b = JSON.parse(body) as { active?: unknown; sub?: unknown; client_id?: unknown; token_type?: unknown }
  assert(b.active === true, 'introspection says active')
  assert(b.sub === userId && b.client_id === clientId && b.token_type === 'Bearer', 'introspection names the user, the client and Bearer')
  return 'active: true, sub and client_id match'
}

export { assert }
