// Consents (docs/pages.md#consent): a user's yes to a client's scopes, remembered per user,
// client and scope set; a request is covered by a consent to a set that holds all it asks.
import type { PrismaClient } from './database.js'

const scopeKey = (scopes: readonly string[]) => [...new Set(scopes)].sort().join(' ')

export function consentStore(prisma: PrismaClient) {
  return {
    /** True when the user consented to a set of this client's that holds every one of `scopes`. */
    async covers(userId: string, clientId: string, scopes: readonly string[]): Promise<boolean> {
      const rows = await prisma.consent.findMany({ where: { userId, clientId }, select: { scope: true } })
      return rows.some((r) => {
        const granted = new Set(r.scope.split(' '))
        return scopes.every((s) => granted.has(s))
      })
    },

    async grant(userId: string, clientId: string, scopes: readonly string[], now: Date): Promise<void> {
      const scope = scopeKey(scopes)
      await prisma.consent.upsert({
        where: { userId_clientId_scope: { userId, clientId, scope } },
        create: { userId, clientId, scope, createdAt: now },
        update: {},
      })
    },

    /** Every client the user consented to, with the scope sets. */
    list(userId: string) {
      return prisma.consent.findMany({ where: { userId }, orderBy: [{ createdAt: 'asc' }], select: { clientId: true, scope: true, createdAt: true } })
    },

    /** Withdraws every consent of the user to a client; returns how many sets. */
    async withdraw(userId: string, clientId: string): Promise<number> {
      return (await prisma.consent.deleteMany({ where: { userId, clientId } })).count
    },
  }
}

export type ConsentStore = ReturnType<typeof consentStore>
