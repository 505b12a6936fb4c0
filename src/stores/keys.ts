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
  }
}

export type KeyStore = ReturnType<typeof keyStore>
