// Revoked access-token jtis (RFC 7009), each kept only until the token would have expired.
import type { PrismaClient, Session } from './database.js'
import type { RevokedSignal } from './revocation-feed.js'

export function revocationStore(prisma: PrismaClient, session: Session, revoked: RevokedSignal = () => {}) {
  return {
    /** Denies `jti` until `expiresAt`; `now` is its place in the revocation feed. */
    async revoke(jti: string, expiresAt: Date, now: Date): Promise<void> {
      await prisma.revokedToken.upsert({ where: { jti }, create: { jti, expiresAt, revokedAt: now }, update: {} })
      revoked(now)
    },

    async isRevoked(jti: string): Promise<boolean> {
      return (await prisma.revokedToken.findUnique({ where: { jti }, select: { jti: true } })) !== null
    },

    /** Drops up to `batch` entries whose tokens have expired anyway; returns how many. */
    async purgeExpired(now: Date, batch: number): Promise<number> {
      const rows = await session.query('DELETE FROM revoked_tokens WHERE jti IN (SELECT jti FROM revoked_tokens WHERE expires_at <= $1 LIMIT $2) RETURNING 1', [
        now,
        batch,
      ])
      return rows.length
    },
  }
}

export type RevocationStore = ReturnType<typeof revocationStore>
