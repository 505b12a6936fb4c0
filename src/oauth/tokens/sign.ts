// Signs Tessera's two JWTs with the key ring's active key (docs/tokens.md#access-token,
// docs/tokens.md#refresh-token).
// Access token: RFC 9068 (`typ: at+jwt`). Refresh token: `typ: rt+jwt`, `aud` = the issuer itself,
// so that no resource server configured for an API audience accepts it as an access token.
import { randomBytes, sign } from 'node:crypto'
import { ALG, type SigningKey } from '../../keys/keyring.js'

export const ACCESS_TYP = 'at+jwt'
export const REFRESH_TYP = 'rt+jwt'

// Token ids are drawn from a pool of random bytes refilled 256 ids at a time: one
// getrandom() call per 256 tokens instead of one per token (a measurable share of /token).
const JTI_BYTES = 16
let pool = Buffer.alloc(0)
let offset = 0

/** A token id: 128 bits from the CSPRNG, base64url. */
export function newJti(): string {
  if (offset + JTI_BYTES > pool.length) {
    pool = randomBytes(JTI_BYTES * 256)
    offset = 0
  }
  const id = pool.toString('base64url', offset, offset + JTI_BYTES)
  offset += JTI_BYTES
  return id
}

export interface AccessClaims {
  iss: string
  sub: string
  aud: string
  iat: number
  exp: number
  jti: string
  client_id: string
  scope: string
  roles?: string[]
  sid?: string
}

/** The same members, but the family is required and there are no roles. */
export type RefreshClaims = Omit<AccessClaims, 'roles' | 'sid'> & { sid: string }

export const ID_TOKEN_TYP = 'JWT'

/** OpenID Connect Core §2 and §5.1: who signed in, for which client, when; the rest by scope. */
export interface IdTokenClaims {
  iss: string
  sub: string
  aud: string
  exp: number
  iat: number
  auth_time?: number
  nonce?: string
  sid?: string
  at_hash: string
  email?: string
  email_verified?: boolean
  name?: string | null
}

// The protected header is the same for every token of one key and type: encode it once.
const headers = new Map<string, string>()
function headerSegment(kid: string, typ: string): string {
  const cacheKey = `${typ} ${kid}`
  let segment = headers.get(cacheKey)
  if (!segment) {
    segment = Buffer.from(JSON.stringify({ alg: ALG, typ, kid })).toString('base64url')
    if (headers.size > 64) headers.clear()
    headers.set(cacheKey, segment)
  }
  return segment
}

/**
 * Signs `claims` as a compact JWS (RFC 7515 §3.1) with RS256 (RFC 7518 §3.3: RSASSA-PKCS1-v1_5
 * with SHA-256). node:crypto signs on libuv's pool, off the event loop; it was faster than
 * jose's WebCrypto path, and signing is most of what /token costs (BENCHMARKS.md). Verification,
 * far cheaper, runs synchronously instead (tokens/verify.ts). RSASSA-PKCS1-v1_5 is
 * deterministic and the claims are serialised in a fixed order, so the same claims and key
 * give the same token: that is how the reuse leeway hands back a family's current refresh
 * token (docs/tokens.md#reuse-leeway).
 */
export function signJwt(claims: AccessClaims | RefreshClaims | IdTokenClaims, typ: string, signer: SigningKey): Promise<string> {
  const input = `${headerSegment(signer.kid, typ)}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(input), signer.key, (err, signature) => {
      if (err) reject(err)
      else resolve(`${input}.${signature.toString('base64url')}`)
    })
  })
}
