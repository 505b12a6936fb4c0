// OAuth clients: allowed grants and scopes, audience, public or confidential, cookie delivery,
// redirect URIs, first-party or not, and the refresh-token reuse leeway.
import { TtlCache } from '../lib/ttl-cache.js'
import type { PrismaClient } from './database.js'

export interface Client {
  id: string
  name: string
  /** SHA-256 (hex) of the secret; null for public clients. */
  secretHash: string | null
  public: boolean
  cookieDelivery: boolean
  grantTypes: string[]
  scopes: string[]
  audience: string | null
  /** Exact strings a redirect_uri must equal (RFC 6749 §3.1.2.3). */
  redirectUris: string[]
  /** Exact strings /logout may redirect to (OpenID RP-Initiated Logout §3). */
  postLogoutRedirectUris: string[]
  /** No consent page; true for every client registered for the password grant. */
  firstParty: boolean
  /** Seconds the previous refresh token may be retried; null: the default (oauth/grants/refresh_token.ts). */
  reuseLeeway: number | null
  createdAt: Date
}

export type NewClient = Omit<Client, 'createdAt'>

const SELECT = {
  id: true,
  name: true,
  secretHash: true,
  public: true,
  cookieDelivery: true,
  grantTypes: true,
  scopes: true,
  audience: true,
  redirectUris: true,
  postLogoutRedirectUris: true,
  firstParty: true,
  reuseLeeway: true,
  createdAt: true,
} as const

export function clientStore(prisma: PrismaClient) {
  return {
    create(client: NewClient): Promise<Client> {
      return prisma.client.create({ data: client, select: SELECT })
    },

    findById(id: string): Promise<Client | null> {
      return prisma.client.findUnique({ where: { id }, select: SELECT })
    },

    /** Oldest first; `limit` at most, after the (createdAt, id) given. */
    list(page: { after?: { createdAt: Date; id: string } | undefined; limit?: number } = {}): Promise<Client[]> {
      const { after } = page
      return prisma.client.findMany({
        where: after ? { OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] } : {},
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        ...(page.limit ? { take: page.limit } : {}),
        select: SELECT,
      })
    },

    /** True if a client was deleted. Its refresh families go with it (ON DELETE CASCADE). */
    async delete(id: string): Promise<boolean> {
      return (await prisma.client.deleteMany({ where: { id } })).count === 1
    },
  }
}

export type ClientStore = ReturnType<typeof clientStore>

/**
 * The same store with findById served from memory for `ttlMs`: /token looks its client up on
 * every request. A change made elsewhere (another instance, the CLI) shows within the TTL.
 */
export function cachedClientStore(store: ClientStore, ttlMs: number): ClientStore {
  const cache = new TtlCache<Client | null>(ttlMs)
  return {
    ...store,
    findById: (id) => cache.get(id, store.findById),
    // This instance forgets it at once; others within the TTL.
    async delete(id) {
      cache.delete(id)
      return store.delete(id)
    },
  }
}
