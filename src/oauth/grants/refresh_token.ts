// grant_type=refresh_token (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2,
// docs/tokens.md#rotation): each use spends the token and hands out the family's next one; a
// spent token presented again revokes the whole family.
import Type from 'typebox'
import type { AuditTrail, RequestMeta } from '../../audit/trail.js'
import type { Config } from '../../config/index.js'
import type { KeyRing } from '../../keys/keyring.js'
import { type Clock, epochSeconds } from '../../lib/clock.js'
import type { Client } from '../../stores/clients.js'
import { type Family, type FamilyStore, isLive, type SignableFamily } from '../../stores/families.js'
import type { UserStore } from '../../stores/users.js'
import { InvalidGrant, InvalidRequest } from '../errors.js'
import { ScopeParam, TokenParam } from '../params.js'
import { grantScope, parseScope } from '../scopes.js'
import type { TokenService } from '../tokens/service.js'
import { TokenRejected, type VerifiedToken, verifyToken } from '../tokens/verify.js'
import { defineGrant } from './types.js'

export const RefreshTokenParams = Type.Object({
  // Optional: a browser client's token comes in its cookie instead.
  refresh_token: Type.Optional(TokenParam),
  scope: Type.Optional({ ...ScopeParam, description: 'A narrower scope for the new access token (RFC 6749 §6); the family keeps its own.' }),
})

/** Seconds of reuse leeway a cookie-delivery client has unless registered with its own (docs/tokens.md#reuse-leeway). */
export const COOKIE_REUSE_LEEWAY = 10

/**
 * The client's reuse leeway in seconds: its own if registered with one, else 10 s for a browser
 * client (tabs and parallel API calls refresh with one cookie at once), else REFRESH_REUSE_LEEWAY.
 */
export function reuseLeewayOf(client: Pick<Client, 'reuseLeeway' | 'cookieDelivery'>, config: Pick<Config, 'refreshReuseLeeway'>): number {
  return client.reuseLeeway ?? (client.cookieDelivery ? COOKIE_REUSE_LEEWAY : config.refreshReuseLeeway)
}

export interface RefreshTokenGrantDeps {
  config: Pick<Config, 'issuer' | 'refreshReuseLeeway'>
  keys: Pick<KeyRing, 'verificationKey'>
  users: Pick<UserStore, 'findById'>
  families: Pick<FamilyStore, 'findById' | 'revoke' | 'revokeAllOfUser'>
  tokens: Pick<TokenService, 'rotate' | 'signCurrent' | 'access' | 'idToken'>
  audit: AuditTrail
  clock: Clock
}

export function refreshTokenGrant(deps: RefreshTokenGrantDeps) {
  const { config, keys, users, families, tokens, audit, clock } = deps

  /**
   * The rotation did not win. Within the reuse leeway the presented token was the one just
   * before the current one, and the family is handed back for its current token to be sent
   * again (docs/tokens.md#reuse-leeway). Otherwise this throws why: revoked, expired, the user
   * disabled, a scope wider than the family's, or reuse (which revokes the family).
   */
  async function recoverLostRotation(sid: string, jti: string, client: Client, meta: RequestMeta, requested: string[] | undefined): Promise<Family> {
    const clientId = client.id
    const now = new Date(clock.now())
    const family = await families.findById(sid)
    if (!family || family.clientId !== clientId) throw new InvalidGrant().because('no such family for this client')
    if (family.revokedAt) throw new InvalidGrant('The refresh token has been revoked.').because(`family revoked: ${family.revokedReason}`)
    if (!isLive(family, now)) throw new InvalidGrant('The refresh token has expired; sign in again.')
    const user = await users.findById(family.userId)
    if (!user || user.disabledAt) {
      const revoked = await families.revokeAllOfUser(family.userId, 'user_disabled', now)
      await audit.familiesRevoked(revoked, 'user_disabled', { subjectId: family.userId, clientId, ...meta })
      throw new InvalidGrant().because('account disabled')
    }
    const familyScope = family.scope.split(' ').filter(Boolean)
    // Still the current token: the only thing that stopped it is a scope wider than the family's.
    if (family.currentJti === jti) {
      grantScope(requested, familyScope)
      throw new InvalidGrant()
    }
    const leeway = reuseLeewayOf(client, config)
    const withinLeeway = leeway > 0 && family.previousJti === jti && family.rotatedAt !== null && now.getTime() - family.rotatedAt.getTime() <= leeway * 1000
    if (withinLeeway) {
      // The retry asks for the same narrowing it asked before, or none: never wider.
      grantScope(requested, familyScope)
      return family
    }

    // Reuse: a spent token of a live family. Whoever holds it, the family is no longer safe.
    if (await families.revoke(family.id, 'reuse_detected', now)) {
      await audit.record({
        type: 'refresh.reuse_detected',
        subjectId: family.userId,
        clientId,
        ...meta,
        details: { sid: family.id, generation: family.generation },
      })
      await audit.record({ type: 'family.revoked', subjectId: family.userId, clientId, ...meta, details: { sid: family.id, reason: 'reuse_detected' } })
    }
    throw new InvalidGrant('The refresh token was already used; the session has been revoked.')
  }

  return defineGrant({
    grantType: 'refresh_token',
    params: RefreshTokenParams,
    async handle(params, { client, meta, cookieRefreshToken }) {
      const presented = params.refresh_token ?? (client.cookieDelivery ? cookieRefreshToken : undefined)
      if (!presented) throw new InvalidRequest('refresh_token is required.')
      const requested = parseScope(params.scope)

      let verified: VerifiedToken
      try {
        verified = verifyToken(presented, ['refresh'], { keys, issuer: config.issuer, now: epochSeconds(clock) })
      } catch (err) {
        if (err instanceof TokenRejected)
          throw new InvalidGrant(err.expired ? 'The refresh token has expired.' : 'The refresh token is invalid.').because(err.reason)
        throw err
      }
      const { sid, jti, client_id: tokenClient } = verified.claims
      // RFC 6749 §6: the token must have been issued to the client presenting it.
      if (tokenClient !== client.id) throw new InvalidGrant('The refresh token was issued to another client.')

      const { win, signer } = await tokens.rotate({ familyId: sid!, presentedJti: jti, withinScope: requested })
      const family: SignableFamily & { userId: string } = win?.family ?? (await recoverLostRotation(sid!, jti, client, meta, requested))
      const role = win?.role ?? (await users.findById(family.userId))?.role ?? 'user'
      // Scope may only narrow (§6), and only the access token narrows: the family keeps its own.
      const scope = requested ? requested.join(' ') : family.scope

      // Both signatures at once: libuv's pool signs them side by side where there are cores.
      const [refresh, access] = await Promise.all([
        tokens.signCurrent(family, signer),
        tokens.access({ sub: family.userId, client, scope, roles: [role], sid: family.id }),
      ])
      // OpenID Connect Core §12.2: a family that holds `openid` gets a new ID token too, with the
      // original auth_time and no nonce (that was for the authentication, not this refresh).
      const scopes = scope.split(' ')
      if (!family.scope.split(' ').includes('openid') || !scopes.includes('openid')) return { access, scope, refresh }
      const [user, full] = await Promise.all([users.findById(family.userId), families.findById(family.id)])
      if (!user) throw new InvalidGrant().because('no such user')
      const idToken = await tokens.idToken({ user, client, scope: scopes, accessToken: access.token, authTime: full?.authTime, sid: family.id })
      return { access, scope, refresh, idToken }
    },
  })
}
