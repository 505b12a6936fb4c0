// Mints Tessera's tokens: access tokens for a subject, and refresh tokens bound to a family.
import { randomUUID } from 'node:crypto'
import type { Config } from '../../config/index.js'
import type { KeyRing, Signer } from '../../keys/keyring.js'
import { type Clock, epochSeconds } from '../../lib/clock.js'
import type { Client } from '../../stores/clients.js'
import type { CurrentToken, FamilyStore, RotatedFamily } from '../../stores/families.js'
import { InvalidGrant } from '../errors.js'
import { ACCESS_TYP, type AccessClaims, newJti, REFRESH_TYP, type RefreshClaims, signJwt } from './sign.js'

export interface IssuedAccess {
  token: string
  jti: string
  expiresIn: number
}

export interface IssuedRefresh {
  token: string
  /** Seconds until this refresh token expires (the cookie's Max-Age). */
  expiresIn: number
}

export interface RequestMeta {
  ip: string | null
  userAgent: string | null
}

export function tokenService(deps: { config: Config; keys: KeyRing; clock: Clock; families: FamilyStore }) {
  const { config, keys, clock, families } = deps

  /** The audience an access token for this client names (SPEC §3: the requested or default one). */
  const audienceOf = (client: Client): string => client.audience ?? config.defaultAudience

  async function access(a: { sub: string; client: Client; scope: string; audience?: string; roles?: string[]; sid?: string }): Promise<IssuedAccess> {
    const iat = epochSeconds(clock)
    const jti = newJti()
    const claims: AccessClaims = {
      iss: config.issuer,
      sub: a.sub,
      aud: a.audience ?? audienceOf(a.client),
      iat,
      exp: iat + config.accessTokenTtl,
      jti,
      client_id: a.client.id,
      scope: a.scope,
      ...(a.roles ? { roles: a.roles } : {}),
      ...(a.sid ? { sid: a.sid } : {}),
    }
    return { token: await signJwt(claims, ACCESS_TYP, keys.signer), jti, expiresIn: config.accessTokenTtl }
  }

  const refreshClaims = (f: Pick<RotatedFamily, 'id' | 'userId' | 'clientId' | 'scope'>, t: CurrentToken): RefreshClaims => ({
    iss: config.issuer,
    sub: f.userId,
    aud: config.issuer,
    iat: t.iat,
    exp: t.exp,
    jti: t.jti,
    client_id: f.clientId,
    scope: f.scope,
    sid: f.id,
  })

  /** The next token of a family: idle lifetime from now, never past the family's end. */
  function nextToken(familyExpiresAt: Date, kid: string): { token: CurrentToken; idleExpiresAt: Date } {
    const iat = epochSeconds(clock)
    const exp = Math.min(iat + config.refreshTokenTtl, Math.floor(familyExpiresAt.getTime() / 1000))
    return { token: { jti: newJti(), kid, iat, exp }, idleExpiresAt: new Date(exp * 1000) }
  }

  return {
    access,

    /** Every sign-in starts a family (SPEC §3); returns it with its first refresh token. */
    async startFamily(s: { userId: string; client: Client; scope: string; meta: RequestMeta }): Promise<{ family: RotatedFamily; refresh: IssuedRefresh }> {
      const now = clock.now()
      const expiresAt = new Date(now + config.refreshFamilyTtl * 1000)
      // The key is chosen once: an emergency rotation while the family is written must not
      // turn this sign-in into an error (its tokens are then as void as any issued just before).
      const signer = keys.signer
      const { token, idleExpiresAt } = nextToken(expiresAt, signer.kid)
      const id = randomUUID()
      const family = await families.start({
        id,
        userId: s.userId,
        clientId: s.client.id,
        scope: s.scope,
        token,
        expiresAt,
        idleExpiresAt,
        userAgent: s.meta.userAgent,
        ip: s.meta.ip,
        now: new Date(now),
      })
      return { family, refresh: await this.signCurrent(family, signer) }
    },

    /**
     * Signs the family's current refresh token (again): same claims, same key, same bytes.
     * `chosen` is the signer the caller picked when it wrote the token's kid, used if it matches.
     */
    async signCurrent(f: RotatedFamily, chosen?: Signer): Promise<IssuedRefresh> {
      const t = { jti: f.currentJti, kid: f.currentKid, iat: f.currentIat, exp: f.currentExp }
      const signer = chosen?.kid === t.kid ? chosen : await keys.signerFor(t.kid)
      // The key that signed it was removed (emergency rotation): the token cannot be vouched for.
      if (!signer) throw new InvalidGrant('The refresh token was signed by a key that has been withdrawn; sign in again.')
      return { token: await signJwt(refreshClaims(f, t), REFRESH_TYP, signer), expiresIn: Math.max(0, t.exp - epochSeconds(clock)) }
    },
  }
}

export type TokenService = ReturnType<typeof tokenService>
