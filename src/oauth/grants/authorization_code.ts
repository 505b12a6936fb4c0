// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6, OpenID Connect Core §3.1.3):
// the code a browser brought back from /authorize, for the client it was issued to, with the
// same redirect_uri and the PKCE verifier of its challenge. The exchange starts a refresh family
// like any sign-in; with scope `openid` the answer holds an ID token. A code is spent by the
// first exchange; a second one is refused and revokes what the first issued (§4.1.2).
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import Type from 'typebox'
import type { AuditTrail } from '../../audit/trail.js'
import type { Clock } from '../../lib/clock.js'
import type { AuthorizationCodeStore } from '../../stores/authorization-codes.js'
import type { FamilyStore } from '../../stores/families.js'
import type { UserStore } from '../../stores/users.js'
import { InvalidGrant, InvalidRequest } from '../errors.js'
import type { TokenService } from '../tokens/service.js'
import { defineGrant } from './types.js'

export const AuthorizationCodeParams = Type.Object({
  code: Type.String({ maxLength: 100, description: 'The code from the redirect.' }),
  redirect_uri: Type.String({ maxLength: 2000, description: 'The redirect_uri of the authorization request, exactly.' }),
  code_verifier: Type.String({ maxLength: 128, description: 'The PKCE verifier (RFC 7636 §4.1): 43 to 128 unreserved characters.' }),
})

/** RFC 7636 §4.1: code-verifier = 43*128unreserved. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

export interface AuthorizationCodeGrantDeps {
  codes: Pick<AuthorizationCodeStore, 'consume' | 'replayed'>
  users: Pick<UserStore, 'findById'>
  families: Pick<FamilyStore, 'revoke'>
  tokens: Pick<TokenService, 'startFamily' | 'access' | 'idToken'>
  audit: AuditTrail
  clock: Clock
}

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

export function authorizationCodeGrant({ codes, users, families, tokens, audit, clock }: AuthorizationCodeGrantDeps) {
  return defineGrant({
    grantType: 'authorization_code',
    params: AuthorizationCodeParams,
    async handle(params, { client, meta }) {
      if (!VERIFIER.test(params.code_verifier)) throw new InvalidRequest('code_verifier must be 43 to 128 unreserved characters (RFC 7636 §4.1).')
      const now = new Date(clock.now())
      // The family's id is chosen first, so that the write that spends the code names it.
      const familyId = randomUUID()
      const consumed = await codes.consume(params.code, familyId, now)
      if (!consumed) throw new InvalidGrant('The authorization code is invalid.').because('no such code')
      const { code } = consumed
      if (!consumed.won) {
        // Used before: whoever holds it now, what the first exchange issued is no longer safe.
        if (consumed.familyId && (await families.revoke(consumed.familyId, 'code_replayed', now))) {
          const who = { subjectId: code.userId, clientId: code.clientId, ...meta }
          await audit.record({ type: 'code.replayed', ...who, details: { sid: consumed.familyId, by_client: client.id } })
          await audit.record({ type: 'family.revoked', ...who, details: { sid: consumed.familyId, reason: 'code_replayed' } })
        }
        throw new InvalidGrant('The authorization code was already used.').because('code replayed')
      }
      if (code.clientId !== client.id) throw new InvalidGrant('The authorization code was issued to another client.')
      if (code.expiresAt <= now) throw new InvalidGrant('The authorization code has expired.')
      if (code.redirectUri !== params.redirect_uri) throw new InvalidGrant('redirect_uri is not the one of the authorization request.')
      const challenge = createHash('sha256').update(params.code_verifier).digest('base64url')
      if (!sameText(challenge, code.codeChallenge)) throw new InvalidGrant('The code_verifier does not match the code_challenge.')
      const user = await users.findById(code.userId)
      if (!user || user.disabledAt) throw new InvalidGrant('The authorization code is invalid.').because('account disabled')

      const scope = code.scope
      const { family, refresh } = await tokens.startFamily({
        id: familyId,
        userId: user.id,
        client,
        scope,
        meta,
        sessionId: code.sessionId,
        authTime: code.authTime,
      })
      // A replay that raced this exchange found no family to revoke yet: now there is one. This
      // exchange still won the code and is answered as it would be had the replay come a moment
      // later: with tokens its family's revocation has already voided.
      if (await codes.replayed(params.code)) await families.revoke(family.id, 'code_replayed', new Date(clock.now()))
      const access = await tokens.access({ sub: user.id, client, scope, roles: [user.role], sid: family.id })
      const scopes = scope.split(' ')
      const idToken = scopes.includes('openid')
        ? await tokens.idToken({ user, client, scope: scopes, accessToken: access.token, authTime: code.authTime, nonce: code.nonce, sid: family.id })
        : undefined
      await audit.record({
        type: 'signin.ok',
        actorId: user.id,
        subjectId: user.id,
        clientId: client.id,
        ...meta,
        details: { via: 'authorization_code', sid: family.id },
      })
      return { access, scope, refresh, ...(idToken ? { idToken } : {}) }
    },
  })
}
