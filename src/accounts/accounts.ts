// Creating accounts, shared by sign-up (POST /users) and `tessera users create`.

import { Conflict, InvalidRequest } from '../oauth/errors.js'
import { EmailTaken, type Role, type User, type UserStore } from '../stores/users.js'
import { hashPassword } from './passwords.js'

// A pragmatic subset of RFC 5321/5322: one @, no spaces or specials, a dotted domain.
const EMAIL = /^[^\s@"(),:;<>[\\\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/

export const normaliseEmail = (email: string): string => email.trim().toLowerCase()

/** The public view of an account (API and CLI): never the password hash. */
export const userView = (u: User) => ({ id: u.id, email: u.email, name: u.name, role: u.role, created_at: u.createdAt.toISOString() })

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
  const email = normaliseEmail(input.email)
  if (email.length > 254 || !EMAIL.test(email)) throw new InvalidRequest('Invalid field "email": not a valid email address.')
  const length = [...input.password].length
  if (length < 8 || length > 256) throw new InvalidRequest('Invalid field "password": 8 to 256 characters.')
  const passwordHash = await hashPassword(input.password)
  try {
    return await users.create({ email, passwordHash, name: input.name?.trim() || null, role: input.role ?? 'user' })
  } catch (err) {
    if (err instanceof EmailTaken) throw new Conflict('An account with this email already exists.')
    throw err
  }
}
