// POST /me/password: the current password, then the new one; the session that asked stays
// signed in, every other session of the user is signed out (docs/endpoints.md#me-password).
import type { AuditTrail, RequestMeta } from '../audit/trail.js'
import type { Clock } from '../lib/clock.js'
import { Forbidden, InvalidRequest } from '../oauth/errors.js'
import type { BrowserSessionStore } from '../stores/browser-sessions.js'
import type { FamilyStore } from '../stores/families.js'
import { type LockoutStore, lockoutKey } from '../stores/lockouts.js'
import type { UserStore } from '../stores/users.js'
import { checkNewPassword } from './accounts.js'
import { checkPassword, type PasswordCheckDeps } from './password-check.js'
import { hashPassword } from './passwords.js'

export interface PasswordChangeDeps {
  users: Pick<UserStore, 'findById' | 'setPasswordHash'>
  families: Pick<FamilyStore, 'revokeAllOfUser'>
  lockouts: Pick<LockoutStore, 'state'>
  /** Browser sessions end with the old password. */
  sessions?: Pick<BrowserSessionStore, 'endAllOfUser'>
  check: PasswordCheckDeps
  audit: AuditTrail
  clock: Clock
}

export async function changePassword(
  deps: PasswordChangeDeps,
  c: { userId: string; sid: string | undefined; clientId: string; current: string; next: string; meta: RequestMeta },
): Promise<{ signedOut: number }> {
  const user = await deps.users.findById(c.userId)
  if (!user || user.disabledAt) throw new Forbidden('This token does not belong to an active user.')
  const next = checkNewPassword(c.next, 'new_password')
  const lock = await deps.lockouts.state(lockoutKey(user.email))
  if (!(await checkPassword(deps.check, { email: user.email, user, lock, password: c.current, via: 'password_change', clientId: c.clientId, meta: c.meta }))) {
    throw new InvalidRequest('current_password is not the current password.')
  }
  await deps.users.setPasswordHash(user.id, await hashPassword(next))
  const reason = 'password_changed'
  const revoked = await deps.families.revokeAllOfUser(user.id, reason, new Date(deps.clock.now()), c.sid)
  await deps.sessions?.endAllOfUser(user.id, new Date(deps.clock.now()))
  const who = { actorId: user.id, subjectId: user.id, clientId: c.clientId, ...c.meta }
  await deps.audit.record({ type: 'password.changed', ...who, details: { kept: c.sid ?? null } })
  await deps.audit.familiesRevoked(revoked, reason, who)
  return { signedOut: revoked.length }
}
