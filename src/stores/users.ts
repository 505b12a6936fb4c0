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
  failedLogins: number
  lockedUntil: Date | null
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
  failedLogins: true,
  lockedUntil: true,
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

    /** Every password sign-in starts here: raw SQL, parsed and planned once per connection. */
    async findByEmail(email: string): Promise<User | null> {
      const rows = await session.prepared<User>(
        'tessera_user_by_email',
        `SELECT id, email, password_hash AS "passwordHash", name, role::text AS role, disabled_at AS "disabledAt",
                failed_logins AS "failedLogins", locked_until AS "lockedUntil", created_at AS "createdAt"
           FROM users WHERE email = $1`,
        [email],
      )
      return rows[0] ?? null
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

    /** Clears the failed-password count and any lockout. */
    unlock: (id: string) => update(id, { failedLogins: 0, lockedUntil: null }),
  }
}

export type UserStore = ReturnType<typeof userStore>
