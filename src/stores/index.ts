// All repositories over one database connection: the only code that sees the Prisma client.
import { auditStore } from './audit.js'
import { authorizationCodeStore } from './authorization-codes.js'
import { browserSessionStore } from './browser-sessions.js'
import { cachedClientStore, clientStore } from './clients.js'
import { consentStore } from './consents.js'
import type { Connection } from './database.js'
import { familyStore } from './families.js'
import { keyStore } from './keys.js'
import { lockoutStore } from './lockouts.js'
import { passwordResetStore } from './password-resets.js'
import { revocationFeedStore, revocationSignal } from './revocation-feed.js'
import { revocationStore } from './revocations.js'
import { userStore } from './users.js'

export function createStores(db: Connection, opts: { clientCacheMs?: number } = {}) {
  const { prisma } = db
  const clients = clientStore(prisma)
  // Every store that revokes tells the feed (stores/revocation-feed.ts).
  const revoked = revocationSignal()
  return {
    users: userStore(prisma, db),
    clients: opts.clientCacheMs ? cachedClientStore(clients, opts.clientCacheMs) : clients,
    families: familyStore(prisma, db, revoked.notify),
    revocations: revocationStore(prisma, db, revoked.notify),
    revocationFeed: revocationFeedStore(db, revoked),
    audit: auditStore(prisma, db),
    keys: keyStore(prisma),
    lockouts: lockoutStore(prisma, db),
    passwordResets: passwordResetStore(prisma, db, revoked.notify),
    browserSessions: browserSessionStore(prisma, db),
    authorizationCodes: authorizationCodeStore(prisma, db),
    consents: consentStore(prisma),
  }
}

export type Stores = ReturnType<typeof createStores>
