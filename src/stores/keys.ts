// Signing keys at rest: public JWK in clear, private part sealed (see keys/sealing.ts).
import type { KeyState } from '../generated/prisma/enums.js'
import type { PrismaClient } from './database.js'

export type { KeyState }

export interface StoredKey {
  kid: string
  alg: string
  state: KeyState
  publicJwk: { kty: 'RSA'; n: string; e: string }
  sealedPrivateKey: Uint8Array
  createdAt: Date
  publishedAt: Date
  activatedAt: Date | null
  retiringAt: Date | null
  retiredAt: Date | null
}

export interface NewKey {
  kid: string
  state: KeyState
  publicJwk: StoredKey['publicJwk']
  sealedPrivateKey: Uint8Array
  at: Date
}

type Row = Awaited<ReturnType<PrismaClient['signingKey']['findMany']>>[number]

const toKey = (r: Row): StoredKey => ({
  kid: r.kid,
  alg: r.alg,
  state: r.state,
  publicJwk: r.publicJwk as StoredKey['publicJwk'],
  sealedPrivateKey: r.privateKey,
  createdAt: r.createdAt,
  publishedAt: r.publishedAt,
  activatedAt: r.activatedAt,
  retiringAt: r.retiringAt,
  retiredAt: r.retiredAt,
})

export function keyStore(prisma: PrismaClient) {
  return {
    /** Every key still kept, newest first. */
    async all(): Promise<StoredKey[]> {
      return (await prisma.signingKey.findMany({ orderBy: { createdAt: 'desc' } })).map(toKey)
    },

    async create(key: NewKey): Promise<StoredKey> {
      const row = await prisma.signingKey.create({
        data: {
          kid: key.kid,
          state: key.state,
          publicJwk: key.publicJwk,
          privateKey: Buffer.from(key.sealedPrivateKey),
          createdAt: key.at,
          publishedAt: key.at,
          activatedAt: key.state === 'active' ? key.at : null,
        },
      })
      return toKey(row)
    },

    /**
     * Applies state changes (and deletions) in one transaction, so no instance ever reads a
     * ring with no active key or with two.
     */
    async transition(changes: { kid: string; state: KeyState; at: Date }[], deletions: string[] = []): Promise<void> {
      const stamp = (state: KeyState, at: Date) =>
        state === 'active' ? { activatedAt: at } : state === 'retiring' ? { retiringAt: at } : state === 'retired' ? { retiredAt: at } : {}
      await prisma.$transaction([
        ...deletions.map((kid) => prisma.signingKey.delete({ where: { kid } })),
        ...changes.map((c) => prisma.signingKey.update({ where: { kid: c.kid }, data: { state: c.state, ...stamp(c.state, c.at) } })),
      ])
    },

    async delete(kid: string): Promise<void> {
      await prisma.signingKey.deleteMany({ where: { kid } })
    },

    /** Changes whenever the ring does: polled by every instance to pick up another's rotation. */
    async fingerprint(): Promise<string> {
      const rows = await prisma.$queryRaw<{ f: string | null }[]>`SELECT string_agg(kid || ':' || state, ',' ORDER BY kid) AS f FROM signing_keys`
      return rows[0]?.f ?? ''
    },
  }
}

export type KeyStore = ReturnType<typeof keyStore>
