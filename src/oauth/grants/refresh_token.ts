// grant_type=refresh_token (RFC 6749 §6) with rotation and reuse detection (SPEC §3,
// RFC 9700 §4.14.2): each use spends the token and hands out the family's next one; a spent
// token presented again revokes the whole family.
import type { Config } from '../../config/index.js'
import type { KeyRing } from '../../keys/keyring.js'
import type { Clock } from '../../lib/clock.js'
import { epochSeconds } from '../../lib/clock.js'
import { type Family, isLive } from '../../stores/families.js'
import type { Stores } from '../../stores/index.js'
import { InvalidGrant, InvalidRequest } from '../errors.js'
import { grantScope, parseScope } from '../scopes.js'
import type { RequestMeta, TokenService } from '../tokens/service.js'
import { newJti } from '../tokens/sign.js'
import { TokenRejected, type VerifiedToken, verifyToken } from '../tokens/verify.js'
import type { GrantHandler, TokenResult } from './types.js'

export function refreshTokenGrant(deps: { config: Config; stores: Stores; tokens: TokenService; keys: KeyRing; clock: Clock }): GrantHandler {
  const { config, stores, tokens, keys, clock } = deps

  /** Why a rotation lost, and what follows from it. */
  async function refuse(sid: string, jti: string, clientId: string, meta: RequestMeta, requested: string[] | undefined): Promise<Family> {
    const now = new Date(clock.now())
    const family = await stores.families.findById(sid)
    if (!family || family.clientId !== clientId) throw new InvalidGrant()
    if (family.revokedAt) throw new InvalidGrant('The refresh token has been revoked.')
    if (!isLive(family, now)) throw new InvalidGrant('The refresh token has expired; sign in again.')
    const user = await stores.users.findById(family.userId)
    if (!user || user.disabledAt) {
      await stores.families.revokeAllOfUser(family.userId, 'user_disabled', now)
      throw new InvalidGrant()
    }
    // Still the current token: the only thing that stopped it is a scope wider than the family's.
    if (family.currentJti === jti) {
      grantScope(requested, family.scope.split(' ').filter(Boolean))
      throw new InvalidGrant()
    }
    // The leeway (SPEC §3): the token just before the current one, retried soon after it was
    // spent (a lost response, two tabs), gets the family's current token again, never a branch.
    const withinLeeway =
      config.refreshReuseLeeway > 0 &&
      family.previousJti === jti &&
      family.rotatedAt !== null &&
      now.getTime() - family.rotatedAt.getTime() <= config.refreshReuseLeeway * 1000
    if (withinLeeway) {
      // The retry asks for the same narrowing it asked before, or none: never wider.
      grantScope(requested, family.scope.split(' ').filter(Boolean))
      return family
    }

    // Reuse: a spent token of a live family. Whoever holds it, the family is no longer safe.
    if (await stores.families.revoke(family.id, 'reuse_detected', now)) {
      await stores.audit.record({
        type: 'refresh.reuse_detected',
        subjectId: family.userId,
        clientId,
        ...meta,
        details: { sid: family.id, generation: family.generation },
      })
      await stores.audit.record({ type: 'family.revoked', subjectId: family.userId, clientId, ...meta, details: { sid: family.id, reason: 'reuse_detected' } })
    }
    throw new InvalidGrant('The refresh token was already used; the session has been revoked.')
  }

  return {
    grantType: 'refresh_token',
    async handle({ params, client, meta, cookieRefreshToken }): Promise<TokenResult> {
      const presented = params.refresh_token ?? (client.cookieDelivery ? cookieRefreshToken : undefined)
      if (!presented) throw new InvalidRequest('refresh_token is required.')
      const requested = parseScope(params.scope)

      let verified: VerifiedToken
      try {
        verified = verifyToken(presented, ['refresh'], { keys, issuer: config.issuer, now: epochSeconds(clock) })
      } catch (err) {
        if (err instanceof TokenRejected) throw new InvalidGrant(err.expired ? 'The refresh token has expired.' : 'The refresh token is invalid.')
        throw err
      }
      const { sid, jti, client_id: tokenClient } = verified.claims
      // RFC 6749 §6: the token must have been issued to the client presenting it.
      if (tokenClient !== client.id) throw new InvalidGrant('The refresh token was issued to another client.')

      // Chosen before the write, and used after it: an emergency rotation in between must not
      // fail a refresh whose presented token has already been spent.
      const signer = keys.signer
      const won = await stores.families.rotate({
        id: sid!,
        presentedJti: jti,
        next: { jti: newJti(), kid: signer.kid, iat: epochSeconds(clock) },
        idleTtl: config.refreshTokenTtl,
        now: new Date(clock.now()),
        withinScope: requested,
      })
      const family = won?.family ?? (await refuse(sid!, jti, client.id, meta, requested))
      const role = won?.role ?? (await stores.users.findById(family.userId))?.role ?? 'user'
      // Scope may only narrow (§6), and only the access token narrows: the family keeps its own.
      const scope = requested ? requested.join(' ') : family.scope

      // Both signatures at once: libuv's pool signs them side by side where there are cores.
      const [refresh, access] = await Promise.all([
        tokens.signCurrent(family, signer),
        tokens.access({ sub: family.userId, client, scope, roles: [role], sid: family.id }),
      ])
      return {
        access_token: access.token,
        token_type: 'Bearer',
        expires_in: access.expiresIn,
        scope,
        refresh_token: refresh.token,
        refreshExpiresIn: refresh.expiresIn,
      }
    },
  }
}
