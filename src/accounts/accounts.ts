// Accounts: creating them (POST /users and `tessera users create`), their views, and the rules
// every email and every new password meet.

import { dictionary } from '@zxcvbn-ts/language-common'
import { Conflict, InvalidRequest } from '../oauth/errors.js'
import type { LockoutState } from '../stores/lockouts.js'
import { EmailTaken, type Role, type User, type UserStore } from '../stores/users.js'
import { hashPassword } from './passwords.js'

// A pragmatic subset of RFC 5321/5322: one @, no spaces or specials, a dotted domain.
const EMAIL = /^[^\s@"(),:;<>[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/

export const normaliseEmail = (email: string): string => email.trim().toLowerCase()

/** The address as stored (trimmed, lower-cased), or undefined when it is not one. */
export function parseEmail(email: string): string | undefined {
  const normal = normaliseEmail(email)
  return normal.length <= 254 && EMAIL.test(normal) ? normal : undefined
}

// The most common passwords, most common first: zxcvbn-ts's list (49,233 of them, from leaked
// password corpora), which covers the 10,000 most common and more. Compared in the form
// passwords are hashed in (NFC, passwords.ts), lower-cased: `Password123` is as guessable.
let common: Set<string> | undefined
const isCommon = (password: string): boolean => {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.normalize('NFC').toLowerCase()))
  return common.has(password.normalize('NFC').toLowerCase())
}

/**
 * Every new password passes here (sign-up, change, reset): 8 to 256 characters (code points,
 * once normalised), no NUL, and none of the most common passwords (OWASP ASVS v4 2.1.7,
 * v5 6.2.4; NIST SP 800-63B §5.1.1.2).
 */
export function checkNewPassword(password: string, field = 'password'): string {
  const length = [...password.normalize('NFC')].length
  if (length < 8 || length > 256) throw new InvalidRequest(`Invalid field "${field}": 8 to 256 characters.`)
  if (password.includes('\u0000')) throw new InvalidRequest(`Invalid field "${field}": it may not contain NUL characters.`)
  if (isCommon(password)) {
    throw new InvalidRequest(`Invalid field "${field}": this password is too common (one of the first an attacker tries); choose another.`)
  }
  return password
}

/** An account as its owner sees it (API and CLI): never the password hash. */
export const userView = (u: User) => ({ id: u.id, email: u.email, name: u.name, role: u.role, created_at: u.createdAt.toISOString() })

/** An account as admins see it: its state too, and its sign-in name's failures (stores/lockouts.ts). */
export const adminUserView = (u: User, lockout: LockoutState, now: Date) => ({
  ...userView(u),
  disabled: u.disabledAt !== null,
  disabled_at: u.disabledAt?.toISOString() ?? null,
  locked_until: lockout.lockedUntil && lockout.lockedUntil > now ? lockout.lockedUntil.toISOString() : null,
  failed_logins: lockout.failures,
})

/** What anyone may see of an account. */
export const publicUserView = (u: User) => ({ id: u.id, name: u.name })

export interface NewAccount {
  email: string
  password: string
  name?: string | undefined
  role?: Role
}

/** Validates, hashes (argon2id, off the event loop) and stores; Conflict if the email is taken. */
export async function createAccount(users: Pick<UserStore, 'create'>, input: NewAccount): Promise<User> {
  // Postgres text cannot hold NUL (and no email or name needs one).
  if (input.email.includes('\u0000') || input.name?.includes('\u0000')) throw new InvalidRequest('Email and name may not contain NUL characters.')
  const email = parseEmail(input.email)
  if (!email) throw new InvalidRequest('Invalid field "email": not a valid email address.')
  const passwordHash = await hashPassword(checkNewPassword(input.password))
  try {
    return await users.create({ email, passwordHash, name: input.name?.trim() || null, role: input.role ?? 'user' })
  } catch (err) {
    if (err instanceof EmailTaken) throw new Conflict('An account with this email already exists.')
    throw err
  }
}
