// The one place Tessera verifies its own JWTs: RS256 only, our key ring only (never a key
// named by `jku`, `x5u`, `jwk` or `x5c`), and `typ`, `iss`, `aud`, `exp`, `nbf` checked with a
// small clock skew. Callers map the failure to their own RFC error.
import { errors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose'
import { ALG, type KeyRing } from '../../keys/keyring.js'
import { isUuid } from '../../lib/ids.js'
import type { KeyState } from '../../stores/keys.js'
import { ACCESS_TYP, REFRESH_TYP } from './sign.js'

export const CLOCK_SKEW = 30

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
  claims: JWTPayload & {
    sub: string
    jti: string
    exp: number
    iat: number
    client_id: string
    scope?: string
    sid?: string
    roles?: string[]
  }
}

export interface VerifyOptions {
  keys: KeyRing
  issuer: string
  /** Seconds since the epoch. */
  now: number
  /** Required audience; refresh tokens are always checked against the issuer. */
  audience?: string
}

// Which key states may still vouch for a token. A `retired` key is out of the JWKS and no
// longer verifies access tokens, but our own refresh tokens it signed stay valid (SPEC §5).
const ACCEPTING: Record<TokenKind, KeyState[]> = {
  access: ['active', 'retiring', 'next'],
  refresh: ['active', 'retiring', 'next', 'retired'],
}

const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const

/** Verifies a token of the given kind, or of either kind (introspection, revocation). */
export async function verifyToken(token: string, kinds: TokenKind[], opts: VerifyOptions): Promise<VerifiedToken> {
  if (typeof token !== 'string' || token.length > 8192 || token.split('.').length !== 3) throw new TokenRejected('malformed token')
  let kind: TokenKind | undefined
  let kid = ''
  const getKey = (header: JWTHeaderParameters) => {
    for (const h of FORBIDDEN_HEADERS) if (h in header) throw new TokenRejected(`header ${h} is not accepted`)
    if (header.alg !== ALG) throw new TokenRejected('algorithm not accepted')
    kind = header.typ === ACCESS_TYP ? 'access' : header.typ === REFRESH_TYP ? 'refresh' : undefined
    if (!kind || !kinds.includes(kind)) throw new TokenRejected('wrong token type')
    kid = typeof header.kid === 'string' ? header.kid : ''
    const key = opts.keys.verificationKey(kid)
    if (!key || !ACCEPTING[kind].includes(key.state)) throw new TokenRejected('unknown signing key')
    return key.key
  }
  try {
    const { payload } = await jwtVerify(token, getKey, {
      algorithms: [ALG],
      issuer: opts.issuer,
      clockTolerance: CLOCK_SKEW,
      currentDate: new Date(opts.now * 1000),
      requiredClaims: ['sub', 'jti', 'exp', 'iat', 'client_id'],
    })
    const k = kind as TokenKind | undefined
    if (!k) throw new TokenRejected('wrong token type')
    const audience = k === 'refresh' ? opts.issuer : opts.audience
    if (audience !== undefined) {
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud]
      if (!aud.includes(audience)) throw new TokenRejected('wrong audience')
    }
    if (k === 'refresh' && !(typeof payload.sid === 'string' && isUuid(payload.sid))) throw new TokenRejected('refresh token without a valid sid')
    return { kind: k, kid, claims: payload as VerifiedToken['claims'] }
  } catch (err) {
    if (err instanceof TokenRejected) throw err
    if (err instanceof errors.JWTExpired) throw new TokenRejected('token expired', true)
    if (err instanceof errors.JOSEError) throw new TokenRejected(err.code)
    throw new TokenRejected('malformed token')
  }
}
