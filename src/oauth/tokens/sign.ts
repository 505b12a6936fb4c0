// Signs Tessera's two JWTs with the key ring's active key (SPEC §3).
// Access token: RFC 9068 (`typ: at+jwt`). Refresh token: `typ: rt+jwt`, `aud` = the issuer itself,
// so that no resource server configured for an API audience accepts it as an access token.
import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import type { webcrypto } from 'node:crypto'
import { ALG } from '../../keys/keyring.js'

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

export interface RefreshClaims {
  iss: string
  sub: string
  aud: string
  iat: number
  exp: number
  jti: string
  client_id: string
  scope: string
  sid: string
}

export interface SigningKey {
  kid: string
  key: webcrypto.CryptoKey
}

/**
 * Signs `claims` as they are. RSASSA-PKCS1-v1_5 is deterministic and the claims are
 * serialised in a fixed order, so the same claims and key give the same token: that is how
 * the reuse leeway hands back a family's current refresh token (SPEC §3).
 */
export function signJwt(claims: AccessClaims | RefreshClaims, typ: string, signer: SigningKey): Promise<string> {
  return new SignJWT({ ...claims }).setProtectedHeader({ alg: ALG, typ, kid: signer.kid }).sign(signer.key)
}
