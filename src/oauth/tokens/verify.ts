// The one place Tessera verifies its own JWTs: RS256 only, our key ring only (never a key
// named by `jku`, `x5u`, `jwk` or `x5c`), and `typ`, `iss`, `aud`, `exp`, `nbf` checked. Tessera
// set `exp` itself, so it is honoured to the second; only `nbf` gets a small skew, for another
// instance whose clock runs a little ahead. Callers map the failure to their own RFC error.
//
// The signature is checked with node:crypto, synchronously, on the calling thread: an RS256
// verification (public exponent 65537) costs less than handing a job to libuv's pool and back,
// which is what jose's WebCrypto verification did (BENCHMARKS.md has the measurements). The
// claims checks are the ones jose's jwtVerify made (plus string types for `sub`, `jti` and
// `client_id`); they only run on a payload whose signature is ours.
import { verify as rsaVerify } from 'node:crypto'
import { ALG, type KeyRing } from '../../keys/keyring.js'
import { isUuid } from '../../lib/ids.js'
import type { KeyState } from '../../stores/keys.js'
import { MAX_TOKEN_LENGTH } from '../params.js'
import { ACCESS_TYP, REFRESH_TYP } from './sign.js'

/** Seconds another instance's clock may run ahead of ours, for `nbf` only. */
const CLOCK_SKEW = 30

export type TokenKind = 'access' | 'refresh'

export class TokenRejected extends Error {
  override name = 'TokenRejected'
  constructor(
    readonly reason: string,
    readonly expired = false,
  ) {
    super(reason)
  }
}

export interface VerifiedToken {
  kind: TokenKind
  kid: string
  claims: {
    iss: string
    sub: string
    aud?: string | string[]
    jti: string
    exp: number
    iat: number
    nbf?: number
    client_id: string
    scope?: string
    sid?: string
    roles?: string[]
    [claim: string]: unknown
  }
}

export interface VerifyOptions {
  keys: Pick<KeyRing, 'verificationKey'>
  issuer: string
  /** Seconds since the epoch. */
  now: number
  /** Required audience; refresh tokens are always checked against the issuer. */
  audience?: string
}

// Which key states may still vouch for a token. A `retired` key is out of the JWKS and no
// longer verifies access tokens, but our own refresh tokens it signed stay valid
// (docs/keys.md#key-states).
const ACCEPTING: Record<TokenKind, KeyState[]> = {
  access: ['active', 'retiring', 'next'],
  refresh: ['active', 'retiring', 'next', 'retired'],
}

const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const
const BASE64URL = /^[A-Za-z0-9_-]+$/
/** Claims every Tessera token carries as strings. */
const STRING_CLAIMS = ['sub', 'jti', 'client_id'] as const

/**
 * A segment's bytes, only when the segment is their one canonical base64url spelling (RFC 7515
 * §2, RFC 4648 §3.5): the last character's unused low bits zero, and no length a base64url
 * string cannot have. A lenient decoder takes up to 15 other strings for the same signature,
 * and so for the same token; re-encoding and comparing refuses every one of them.
 */
function canonicalBytes(segment: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url')
  if (bytes.toString('base64url') !== segment) throw new TokenRejected('malformed token')
  return bytes
}

/** A JWS segment decoded as a JSON object (RFC 7515 §5.2 steps 2–4), or the token is malformed. */
function jsonSegment(segment: string): Record<string, unknown> {
  const bytes = canonicalBytes(segment)
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new TokenRejected('malformed token')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TokenRejected('malformed token')
  return value as Record<string, unknown>
}

/** Verifies a token of the given kind, or of either kind (introspection, revocation). */
export function verifyToken(token: string, kinds: TokenKind[], opts: VerifyOptions): VerifiedToken {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new TokenRejected('malformed token')
  const parts = token.split('.')
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) throw new TokenRejected('malformed token')
  const [h, p, s] = parts as [string, string, string]
  const signature = canonicalBytes(s)

  const header = jsonSegment(h)
  for (const name of FORBIDDEN_HEADERS) if (name in header) throw new TokenRejected(`header ${name} is not accepted`)
  if (header.alg !== ALG) throw new TokenRejected('algorithm not accepted')
  const kind: TokenKind | undefined = header.typ === ACCESS_TYP ? 'access' : header.typ === REFRESH_TYP ? 'refresh' : undefined
  if (!kind || !kinds.includes(kind)) throw new TokenRejected('wrong token type')
  const kid = typeof header.kid === 'string' ? header.kid : ''
  const key = opts.keys.verificationKey(kid)
  if (!key || !ACCEPTING[kind].includes(key.state)) throw new TokenRejected('unknown signing key')

  // RSASSA-PKCS1-v1_5 with SHA-256 over the ASCII of `header.payload` (RFC 7515 §5.2 step 8).
  let valid: boolean
  try {
    valid = rsaVerify('sha256', Buffer.from(`${h}.${p}`), key.key, signature)
  } catch {
    valid = false
  }
  if (!valid) throw new TokenRejected('signature verification failed')

  // From here on the payload is one Tessera signed; the checks are for time and for use.
  const claims = jsonSegment(p)
  if (claims.iss !== opts.issuer) throw new TokenRejected('wrong issuer')
  for (const name of STRING_CLAIMS) if (typeof claims[name] !== 'string') throw new TokenRejected(`claim ${name} missing`)
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') throw new TokenRejected('claim exp or iat missing')
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > opts.now + CLOCK_SKEW)) throw new TokenRejected('not yet valid')

  const audience = kind === 'refresh' ? opts.issuer : opts.audience
  if (audience !== undefined) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!aud.includes(audience)) throw new TokenRejected('wrong audience')
  }
  if (kind === 'refresh' && !(typeof claims.sid === 'string' && isUuid(claims.sid))) throw new TokenRejected('refresh token without a valid sid')
  // RFC 7519 §4.1.4: not accepted on or after exp.
  if (claims.exp <= opts.now) throw new TokenRejected('token expired', true)
  return { kind, kid, claims: claims as VerifiedToken['claims'] }
}

/** Any of our tokens of the given kinds, or undefined if it is not one (invalid, expired, foreign). */
export function readToken(token: string, kinds: TokenKind[], opts: VerifyOptions): VerifiedToken | undefined {
  try {
    return verifyToken(token, kinds, opts)
  } catch (err) {
    if (err instanceof TokenRejected) return undefined
    throw err
  }
}
