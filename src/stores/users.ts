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

const SELECT = { id: true, email: true, passwordHash: true, name: true, role: true, disabledAt: true, createdAt: true } as const

export function userStore(prisma: PrismaClient, session: Session) {
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
        `SELECT id, email, password_hash AS "passwordHash", name, role::text AS role, disabled_at AS "disabledAt", created_at AS "createdAt"
           FROM users WHERE email = $1`,
        [email],
      )
      return rows[0] ?? null
    },

    async setPasswordHash(id: string, passwordHash: string): Promise<void> {
      await prisma.user.update({ where: { id }, data: { passwordHash } })
    },
  }
}

export type UserStore = ReturnType<typeof userStore>
