// The one check of a password against a sign-in name, for every path that checks one (the
// password grant, a password change, later the sign-in page): it always pays the argon2 cost,
// records a failure in the audit trail, and counts it towards the name's lockout
// (docs/errors.md#rate-limited). The name is counted whether or not an account has it, so a
// locked name reads the same either way.
import type { AuditTrail, RequestMeta } from '../audit/trail.js'
import type { Config } from '../config/index.js'
import type { Clock } from '../lib/clock.js'
import type { Metrics } from '../metrics/registry.js'
import { RateLimited } from '../oauth/errors.js'
import { type LockoutState, type LockoutStore, lockoutKey } from '../stores/lockouts.js'
import type { User } from '../stores/users.js'
import { verifyPassword } from './passwords.js'

export interface PasswordCheckDeps {
  config: Pick<Config, 'lockoutThreshold' | 'lockoutWindow' | 'lockoutDuration'>
  lockouts: Pick<LockoutStore, 'fail' | 'clear'>
  audit: AuditTrail
  metrics: Pick<Metrics, 'signinFailures' | 'lockouts'>
  clock: Clock
}

export interface PasswordCheck {
  /** The sign-in name, normalised. */
  email: string
  user: User | null
  /** The name's lockout state, as read with the account. */
  lock: LockoutState
  /**
   * The counter failures go to: the name's (lockoutKey(email)) by default; a browser's own for
   * a device it signed in from before (routes/browser/device.ts), so that failures elsewhere do not lock it out.
   */
  key?: string
  password: string
  /** Where it was asked: `password_grant`, `password_change`. */
  via: string
  clientId?: string | null | undefined
  meta: RequestMeta
}

/** The answer to a locked name: the same whether or not the account exists. */
export const locked = (until: Date, now: number) =>
  new RateLimited((until.getTime() - now) / 1000, 'Too many failed sign-ins for this account; try again later.')

/**
 * True when `user` exists and `password` is theirs. False for a wrong password (or no such
 * account). Throws `rate_limited` while the name is locked, even for the right password.
 */
export async function checkPassword(deps: PasswordCheckDeps, c: PasswordCheck): Promise<boolean> {
  const { config } = deps
  const now = deps.clock.now()
  const lockout = config.lockoutThreshold > 0
  if (lockout && c.lock.lockedUntil && c.lock.lockedUntil.getTime() > now) {
    // The same argon2 work as any check: whether it is locked is all the timing says.
    await verifyPassword(undefined, c.password)
    throw locked(c.lock.lockedUntil, now)
  }
  const key = c.key ?? lockoutKey(c.email)
  if ((await verifyPassword(c.user?.passwordHash, c.password)) && c.user) {
    if (c.lock.failures > 0) await deps.lockouts.clear(key)
    return true
  }
  deps.metrics.signinFailures.inc({ via: c.via })
  await deps.audit.record({ type: 'signin.failed', subjectId: c.user?.id ?? null, clientId: c.clientId ?? null, ...c.meta, details: { via: c.via } })
  if (lockout) {
    const after = await deps.lockouts.fail(key, new Date(now), {
      threshold: config.lockoutThreshold,
      window: config.lockoutWindow,
      duration: config.lockoutDuration,
    })
    if (after.lockedNow) {
      deps.metrics.lockouts.inc()
      await deps.audit.record({
        type: 'account.locked',
        subjectId: c.user?.id ?? null,
        clientId: c.clientId ?? null,
        ...c.meta,
        details: { failures: after.failures },
      })
    }
  }
  return false
}
