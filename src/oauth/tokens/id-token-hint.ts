// An `id_token_hint` (OpenID Connect RP-Initiated Logout 1.0 §2): an ID token Tessera issued,
// its signature checked against the key ring; an expired one is still a good hint (§2: the OP
// need not mind its exp), so only the signature, the issuer and the type decide.
import { verify } from 'node:crypto'
import type { KeyRing } from '../../keys/keyring.js'
import { ALG } from '../../keys/keyring.js'
import { ID_TOKEN_TYP } from './sign.js'

export interface IdTokenHint {
  sub: string
  /** The client it was issued to. */
  aud: string
  sid?: string
}

export function readIdTokenHint(token: string, opts: { keys: Pick<KeyRing, 'verificationKey'>; issuer: string }): IdTokenHint | undefined {
  const parts = token.split('.')
  if (token.length > 8192 || parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return undefined
  const [h, p, s] = parts as [string, string, string]
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString())
    if (header.alg !== ALG || header.typ !== ID_TOKEN_TYP || typeof header.kid !== 'string') return undefined
    const key = opts.keys.verificationKey(header.kid)
    const signature = Buffer.from(s, 'base64url')
    if (!key || signature.toString('base64url') !== s || !verify('sha256', Buffer.from(`${h}.${p}`), key.key, signature)) return undefined
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString())
    if (claims.iss !== opts.issuer || typeof claims.sub !== 'string' || typeof claims.aud !== 'string' || !('at_hash' in claims)) return undefined
    return { sub: claims.sub, aud: claims.aud, ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}) }
  } catch {
    return undefined
  }
}
