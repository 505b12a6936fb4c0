// User accounts.

import { Prisma } from '../generated/prisma/client.js'
import type { Role } from '../generated/prisma/enums.js'
import { isUuid } from '../lib/ids.js'
import type { PrismaClient, Session } from './database.js'

export type { Role }

export interface User {
  id: string
  email: string
  passwordHash: string
  name: string | null
  role: Role
  disabledAt: Date | null
  createdAt: Date
}

export class EmailTaken extends Error {
  override name = 'EmailTaken'
}

const SELECT = {
  id: true,
  email: true,
  passwordHash: true,
  name: true,
  role: true,
  disabledAt: true,
  createdAt: true,
} as const

export interface UserFilter {
  /** Exact, already normalised. */
  email?: string | undefined
  role?: Role | undefined
  disabled?: boolean | undefined
  /** The (createdAt, id) of the last user of the previous page. */
  after?: { createdAt: Date; id: string } | undefined
  limit: number
}

export function userStore(prisma: PrismaClient, session: Session) {
  /** Updates one user; the user as it is now, or null if there is none. */
  async function update(id: string, data: Prisma.UserUpdateInput): Promise<User | null> {
    if (!isUuid(id)) return null
    try {
      return await prisma.user.update({ where: { id }, data, select: SELECT })
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') return null
      throw err
    }
  }

  return {
    /** Throws EmailTaken if the (already normalised) email is in use. */
    async create(input: { email: string; passwordHash: string; name?: string | null; role?: Role }): Promise<User> {
      try {
        return await prisma.user.create({
          data: { email: input.email, passwordHash: input.passwordHash, name: input.name ?? null, role: input.role ?? 'user' },
          select: SELECT,
        })
      } catch (err) {
        if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') throw new EmailTaken(input.email)
        throw err
      }
    },

    findById(id: string): Promise<User | null> {
      if (!isUuid(id)) return Promise.resolve(null)
      return prisma.user.findUnique({ where: { id }, select: SELECT })
    },

    async findByEmail(email: string): Promise<User | null> {
      return prisma.user.findUnique({ where: { email }, select: SELECT })
    },

    /**
     * Every password sign-in starts here: the account with this (normalised) email, if any, and
     * the lockout state of the name (stores/lockouts.ts, `key`), whether or not the account exists,
     * in one round trip. Raw SQL, parsed and planned once per connection.
     */
    async findForSignIn(email: string, key: string, now: Date): Promise<{ user: User | null; lockedUntil: Date | null; failures: number }> {
      const rows = await session.prepared<User & { id: string | null; failures: number | null; lockedUntil: Date | null }>(
        'tessera_user_for_signin',
        `SELECT u.id, u.email, u.password_hash AS "passwordHash", u.name, u.role::text AS role, u.disabled_at AS "disabledAt",
                u.created_at AS "createdAt", f.count AS failures,
                CASE WHEN f.locked_until > $3 THEN f.locked_until END AS "lockedUntil"
           FROM (SELECT 1) AS one LEFT JOIN users AS u ON u.email = $1 LEFT JOIN login_failures AS f ON f.key = $2`,
        [email, key, now],
      )
      const { failures, lockedUntil, ...user } = rows[0]!
      return { user: user.id === null ? null : (user as User), lockedUntil, failures: failures ?? 0 }
    },

    /** Oldest first, `limit` at most, after the given one. */
    list(f: UserFilter): Promise<User[]> {
      return prisma.user.findMany({
        where: {
          ...(f.email !== undefined ? { email: f.email } : {}),
          ...(f.role !== undefined ? { role: f.role } : {}),
          ...(f.disabled !== undefined ? { disabledAt: f.disabled ? { not: null } : null } : {}),
          ...(f.after ? { OR: [{ createdAt: { gt: f.after.createdAt } }, { createdAt: f.after.createdAt, id: { gt: f.after.id } }] } : {}),
        },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: f.limit,
        select: SELECT,
      })
    },

    async setPasswordHash(id: string, passwordHash: string): Promise<void> {
      await prisma.user.update({ where: { id }, data: { passwordHash } })
    },

    /** The fields an owner may change (PATCH /me); null if there is no such user. */
    setProfile: (id: string, data: { name: string | null }) => update(id, { name: data.name }),

    /** Disables (at `at`) or enables (null) an account; the user as it is now, or null. */
    setDisabled: (id: string, at: Date | null) => update(id, { disabledAt: at }),

    setRole: (id: string, role: Role) => update(id, { role }),
  }
}

export type UserStore = ReturnType<typeof userStore>
