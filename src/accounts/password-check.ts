// The one check of a password against an account, for every path that checks one (the
// password grant, a password change): always pays the argon2 cost, and records a failure in
// the audit trail whatever its path.
import type { AuditTrail, RequestMeta } from '../audit/trail.js'
import type { User } from '../stores/users.js'
import { verifyPassword } from './passwords.js'

export interface PasswordCheck {
  user: User | null
  password: string
  /** Where it was asked: `password_grant`, `password_change`. */
  via: string
  clientId?: string | null | undefined
  meta: RequestMeta
}

/** True when `user` exists and `password` is theirs; an unknown user costs the same (a dummy hash). */
export async function checkPassword(audit: AuditTrail, c: PasswordCheck): Promise<boolean> {
  const ok = await verifyPassword(c.user?.passwordHash, c.password)
  if (!ok || !c.user) {
    await audit.record({ type: 'signin.failed', subjectId: c.user?.id ?? null, clientId: c.clientId ?? null, ...c.meta, details: { via: c.via } })
    return false
  }
  return true
}
