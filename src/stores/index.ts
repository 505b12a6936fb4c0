// All repositories over one Prisma client.
import { auditStore } from './audit.js'
import { cachedClientStore, clientStore } from './clients.js'
import type { PrismaClient } from './database.js'
import { familyStore } from './families.js'
import { keyStore } from './keys.js'
import { revocationStore } from './revocations.js'
import { userStore } from './users.js'

export function createStores(prisma: PrismaClient, opts: { clientCacheMs?: number } = {}) {
  const clients = clientStore(prisma)
  return {
    users: userStore(prisma),
    clients: opts.clientCacheMs ? cachedClientStore(clients, opts.clientCacheMs) : clients,
    families: familyStore(prisma),
    revocations: revocationStore(prisma),
    audit: auditStore(prisma),
    keys: keyStore(prisma),
  }
}

export type Stores = ReturnType<typeof createStores>
