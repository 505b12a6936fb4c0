// Password reset by mail (docs/endpoints.md#password-reset): a single-use token, stored only as
// its SHA-256, valid PASSWORD_RESET_TTL, a newer one replacing an older one. Asking for one
// gives no clue whether the account exists: the route answers at once, and this runs after.
import type { AuditTrail, RequestMeta } from '../audit/trail.js'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import { randomSecret, sha256 } from '../lib/secrets.js'
import type { Mailer } from '../mail/mailer.js'
import { InvalidRequest } from '../oauth/errors.js'
import type { BrowserSessionStore } from '../stores/browser-sessions.js'
import type { PasswordResetStore } from '../stores/password-resets.js'
import type { UserStore } from '../stores/users.js'
import { checkNewPassword, parseEmail } from './accounts.js'
import { hashPassword } from './passwords.js'

export interface PasswordResetDeps {
  config: Pick<Config, 'issuer' | 'passwordResetTtl'>
  users: Pick<UserStore, 'findByEmail'>
  resets: Pick<PasswordResetStore, 'replace' | 'consume'>
  mailer: Pick<Mailer, 'sendPasswordReset' | 'delivers'>
  /** Browser sessions end with the old password. */
  sessions?: Pick<BrowserSessionStore, 'endAllOfUser'>
  audit: AuditTrail
  clock: Clock
}

/** The link in the mail: the hosted reset page (routes/browser/password.ts) takes the token. */
export const resetLink = (issuer: string, token: string) => `${issuer}/reset-password?token=${encodeURIComponent(token)}`

/**
 * Mails a reset link to the account with this address, if there is one and it is enabled;
 * does nothing otherwise. The caller has answered already: nothing here reaches the client.
 */
export async function requestReset(deps: PasswordResetDeps, email: string, meta: RequestMeta): Promise<void> {
  const address = parseEmail(email)
  const user = address ? await deps.users.findByEmail(address) : null
  if (!user || user.disabledAt) return
  // No way to deliver a link (production without SMTP_URL): a new one would only cancel an older one.
  if (!deps.mailer.delivers) return deps.mailer.sendPasswordReset(user.email, '', deps.config.passwordResetTtl)
  const token = randomSecret(32)
  const now = deps.clock.now()
  await deps.resets.replace({ userId: user.id, tokenHash: sha256(token), expiresAt: new Date(now + deps.config.passwordResetTtl * 1000), now: new Date(now) })
  await deps.audit.record({ type: 'password.reset_requested', subjectId: user.id, ...meta })
  await deps.mailer.sendPasswordReset(user.email, resetLink(deps.config.issuer, token), deps.config.passwordResetTtl)
}

/** Sets the new password with a token from the mail; every session of the user is signed out, any lockout cleared. */
export async function resetPassword(deps: PasswordResetDeps, token: string, password: string, meta: RequestMeta): Promise<{ userId: string }> {
  const passwordHash = await hashPassword(checkNewPassword(password))
  const done = await deps.resets.consume({ tokenHash: sha256(token), passwordHash, now: new Date(deps.clock.now()) })
  if (!done) throw new InvalidRequest('The reset link is invalid, was used already or has expired; ask for a new one.')
  await deps.sessions?.endAllOfUser(done.userId, new Date(deps.clock.now()))
  const who = { actorId: done.userId, subjectId: done.userId, ...meta }
  await deps.audit.record({ type: 'password.reset', ...who })
  await deps.audit.familiesRevoked(done.revokedFamilies, 'password_reset', who)
  return { userId: done.userId }
}
