// grant_type=password (RFC 6749 §4.3), for first-party clients registered for it explicitly.
// Every sign-in starts a refresh family. Unknown email and wrong password are one answer,
// paid for with the same argon2 work (docs/endpoints.md#password-grant).
import Type from 'typebox'
import { normaliseEmail } from '../../accounts/accounts.js'
import { checkPassword, type PasswordCheckDeps } from '../../accounts/password-check.js'
import { hashPassword, needsRehash } from '../../accounts/passwords.js'
import type { AuditTrail } from '../../audit/trail.js'
import type { Clock } from '../../lib/clock.js'
import type { FamilyStore } from '../../stores/families.js'
import { lockoutKey } from '../../stores/lockouts.js'
import type { UserStore } from '../../stores/users.js'
import { InvalidGrant } from '../errors.js'
import { ScopeParam } from '../params.js'
import { grantScope, parseScope, scopeForRole } from '../scopes.js'
import type { TokenService } from '../tokens/service.js'
import { defineGrant } from './types.js'

export const PasswordParams = Type.Object({
  username: Type.String({ maxLength: 320, description: "The account's email address." }),
  // Characters beyond the sign-up limit are refused before any hashing.
  password: Type.String({ maxLength: 1024 }),
  scope: Type.Optional(ScopeParam),
})

export interface PasswordGrantDeps {
  users: Pick<UserStore, 'findForSignIn' | 'setPasswordHash'>
  families: Pick<FamilyStore, 'revokeAllOfUser'>
  tokens: Pick<TokenService, 'startFamily' | 'access'>
  /** The password check and its lockout (accounts/password-check.ts). */
  check: PasswordCheckDeps
  audit: AuditTrail
  clock: Clock
}

export function passwordGrant({ users, families, tokens, check, audit, clock }: PasswordGrantDeps) {
  return defineGrant({
    grantType: 'password',
    params: PasswordParams,
    async handle(params, { client, meta }) {
      const requested = parseScope(params.scope)
      const granted = grantScope(requested, client.scopes)
      const email = normaliseEmail(params.username)
      // The account and the name's lockout, in one round trip.
      const { user, lockedUntil, failures } = await users.findForSignIn(email, lockoutKey(email), new Date(clock.now()))
      // Always verified, against a dummy hash when there is no such user (no timing oracle).
      const lock = { lockedUntil, failures }
      if (!(await checkPassword(check, { email, user, lock, password: params.password, via: 'password_grant', clientId: client.id, meta })) || !user) {
        throw new InvalidGrant('Invalid email or password.').because(user ? 'wrong password' : 'no such account')
      }
      if (user.disabledAt) {
        // A disabled user gets invalid_grant on every grant, and loses any family left.
        const revoked = await families.revokeAllOfUser(user.id, 'user_disabled', new Date(clock.now()))
        await audit.record({ type: 'signin.failed', subjectId: user.id, clientId: client.id, ...meta, details: { via: 'password_grant', reason: 'disabled' } })
        await audit.familiesRevoked(revoked, 'user_disabled', { subjectId: user.id, clientId: client.id, ...meta })
        throw new InvalidGrant('Invalid email or password.').because('account disabled')
      }
      const scope = scopeForRole(granted, requested !== undefined, user.role).join(' ')
      if (needsRehash(user.passwordHash)) await users.setPasswordHash(user.id, await hashPassword(params.password))

      const { family, refresh } = await tokens.startFamily({ userId: user.id, client, scope, meta })
      const access = await tokens.access({ sub: user.id, client, scope, roles: [user.role], sid: family.id })
      await audit.record({ type: 'signin.ok', actorId: user.id, subjectId: user.id, clientId: client.id, ...meta, details: { sid: family.id } })
      return { access, scope, refresh }
    },
  })
}
