// Revoked access-token jtis (RFC 7009), each kept only until the token would have expired.
import type { PrismaClient } from './database.js'

export function revocationStore(prisma: PrismaClient) {
  return {
    async revoke(jti: string, expiresAt: Date): Promise<void> {
      await prisma.revokedToken.upsert({ where: { jti }, create: { jti, expiresAt }, update: {} })
    },

    async isRevoked(jti: string): Promise<boolean> {
      return (await prisma.revokedToken.findUnique({ where: { jti }, select: { jti: true } })) !== null
    },

    /** Drops entries whose tokens have expired anyway; returns how many. */
    async purgeExpired(now: Date): Promise<number> {
      return (await prisma.revokedToken.deleteMany({ where: { expiresAt: { lte: now } } })).count
    },
  }
}

export type RevocationStore = ReturnType<typeof revocationStore>
