// Mints Tessera's tokens, and is the only code that does: it picks the signing key, the token
// ids and the lifetimes of access tokens and of the refresh tokens that families hold
// (docs/tokens.md#access-token, docs/tokens.md#refresh-families).
import { createHash, randomUUID } from 'node:crypto'
import type { RequestMeta } from '../../audit/trail.js'
import type { Config } from '../../config/index.js'
import type { KeyRing, SigningKey } from '../../keys/keyring.js'
import { type Clock, epochSeconds } from '../../lib/clock.js'
import type { Client } from '../../stores/clients.js'
import type { FamilyStore, NextToken, RotationWin, SignableFamily } from '../../stores/families.js'
import { InvalidGrant } from '../errors.js'
import { ACCESS_TYP, type AccessClaims, ID_TOKEN_TYP, type IdTokenClaims, newJti, REFRESH_TYP, type RefreshClaims, signJwt } from './sign.js'

export interface IssuedAccess {
  token: string
  expiresIn: number
}

export interface IssuedRefresh {
  token: string
  /** Seconds until this refresh token expires (the cookie's Max-Age). */
  expiresIn: number
}

/** A rotation's outcome, and the key the new token's kid names (sign it with that key, whatever the ring does meanwhile). */
export interface Rotation {
  win: RotationWin | null
  signer: SigningKey
}

export interface TokenServiceDeps {
  config: Pick<Config, 'issuer' | 'defaultAudience' | 'accessTokenTtl' | 'refreshTokenTtl' | 'refreshFamilyTtl'>
  keys: Pick<KeyRing, 'signer' | 'signerFor'>
  clock: Clock
  families: Pick<FamilyStore, 'start' | 'rotate'>
}

export function tokenService(deps: TokenServiceDeps) {
  const { config, keys, clock, families } = deps

  /** A refresh token to become a family's current one: idle lifetime from now (the store caps it at the family's end). */
  const nextToken = (signer: SigningKey): NextToken => {
    const iat = epochSeconds(clock)
    return { jti: newJti(), kid: signer.kid, iat, exp: iat + config.refreshTokenTtl }
  }

  const refreshClaims = (f: SignableFamily): RefreshClaims => ({
    iss: config.issuer,
    sub: f.userId,
    aud: config.issuer,
    iat: f.currentIat,
    exp: f.currentExp,
    jti: f.currentJti,
    client_id: f.clientId,
    scope: f.scope,
    sid: f.id,
  })

  const service = {
    /** An access token (RFC 9068) for the client's audience, or the one given. */
    async access(a: { sub: string; client: Client; scope: string; audience?: string; roles?: string[]; sid?: string }): Promise<IssuedAccess> {
      const iat = epochSeconds(clock)
      const claims: AccessClaims = {
        iss: config.issuer,
        sub: a.sub,
        aud: a.audience ?? a.client.audience ?? config.defaultAudience,
        iat,
        exp: iat + config.accessTokenTtl,
        jti: newJti(),
        client_id: a.client.id,
        scope: a.scope,
        ...(a.roles ? { roles: a.roles } : {}),
        ...(a.sid ? { sid: a.sid } : {}),
      }
      return { token: await signJwt(claims, ACCESS_TYP, keys.signer), expiresIn: config.accessTokenTtl }
    },

    /** Every sign-in starts a family (docs/tokens.md#refresh-families); returns it with its first refresh token. */
    async startFamily(s: {
      userId: string
      client: Client
      scope: string
      meta: RequestMeta
      /** Given when it must be known before the family exists (an authorization code names it). */
      id?: string
      sessionId?: string | null
      authTime?: Date | null
    }): Promise<{ family: SignableFamily; refresh: IssuedRefresh }> {
      const now = clock.now()
      // The key is chosen once: an emergency rotation while the family is written must not
      // turn this sign-in into an error (its tokens are then as void as any issued just before).
      const signer = keys.signer
      const family = await families.start({
        id: s.id ?? randomUUID(),
        userId: s.userId,
        clientId: s.client.id,
        scope: s.scope,
        token: nextToken(signer),
        expiresAt: new Date(now + config.refreshFamilyTtl * 1000),
        userAgent: s.meta.userAgent,
        ip: s.meta.ip,
        now: new Date(now),
        sessionId: s.sessionId ?? null,
        authTime: s.authTime ?? null,
      })
      return { family, refresh: await service.signCurrent(family, signer) }
    },

    /**
     * Spends the presented refresh token and gives its family a new one, if it is the current
     * token of a live family (stores/families.ts rotate). `win` is null when it is not.
     */
    async rotate(r: { familyId: string; presentedJti: string; withinScope?: string[] | undefined }): Promise<Rotation> {
      // Chosen before the write, and used after it: an emergency rotation in between must not
      // fail a refresh whose presented token has already been spent.
      const signer = keys.signer
      const win = await families.rotate({
        id: r.familyId,
        presentedJti: r.presentedJti,
        next: nextToken(signer),
        now: new Date(clock.now()),
        withinScope: r.withinScope,
      })
      return { win, signer }
    },

    /**
     * An ID token (OpenID Connect Core §2, docs/pages.md#id-token) for the access token it comes
     * with: `at_hash` is the left half of that token's SHA-256 (§3.1.3.6); the user's claims by
     * scope (§5.4): `email` gives email and email_verified, `profile` the name.
     */
    async idToken(i: {
      user: { id: string; email: string; name: string | null }
      client: Client
      scope: readonly string[]
      accessToken: string
      authTime?: Date | null | undefined
      nonce?: string | null | undefined
      sid?: string | undefined
    }): Promise<string> {
      const iat = epochSeconds(clock)
      const digest = createHash('sha256').update(i.accessToken).digest()
      const claims: IdTokenClaims = {
        iss: config.issuer,
        sub: i.user.id,
        aud: i.client.id,
        exp: iat + config.accessTokenTtl,
        iat,
        ...(i.authTime ? { auth_time: Math.floor(i.authTime.getTime() / 1000) } : {}),
        ...(i.nonce ? { nonce: i.nonce } : {}),
        ...(i.sid ? { sid: i.sid } : {}),
        at_hash: digest.subarray(0, 16).toString('base64url'),
        ...(i.scope.includes('email') ? { email: i.user.email, email_verified: false } : {}),
        ...(i.scope.includes('profile') && i.user.name ? { name: i.user.name } : {}),
      }
      return signJwt(claims, ID_TOKEN_TYP, keys.signer)
    },

    /**
     * Signs the family's current refresh token (again): same claims, same key, same bytes.
     * `chosen` is the key the caller picked when it wrote the token's kid, used if it matches.
     */
    async signCurrent(f: SignableFamily, chosen?: SigningKey): Promise<IssuedRefresh> {
      const signer = chosen?.kid === f.currentKid ? chosen : await keys.signerFor(f.currentKid)
      // The key that signed it was removed (emergency rotation): the token cannot be vouched for.
      if (!signer) throw new InvalidGrant('The refresh token was signed by a key that has been withdrawn; sign in again.')
      return { token: await signJwt(refreshClaims(f), REFRESH_TYP, signer), expiresIn: Math.max(0, f.currentExp - epochSeconds(clock)) }
    },
  }
  return service
}

export type TokenService = ReturnType<typeof tokenService>
