// Password-reset tokens (docs/endpoints.md#password-reset): stored only as a SHA-256 hash, one
// per user (a newer one replaces an older one), single use, consumed by one conditional write.
import type { PrismaClient, Session } from './database.js'
import type { RevokedSignal } from './revocation-feed.js'

export function passwordResetStore(prisma: PrismaClient, session: Session, revoked: RevokedSignal = () => {}) {
  return {
    /** Makes `tokenHash` the user's only reset token. */
    async replace(r: { userId: string; tokenHash: string; expiresAt: Date; now: Date }): Promise<void> {
      await prisma.$transaction([
        prisma.passwordResetToken.deleteMany({ where: { userId: r.userId } }),
        prisma.passwordResetToken.create({ data: { userId: r.userId, tokenHash: r.tokenHash, expiresAt: r.expiresAt, createdAt: r.now } }),
      ])
    },

    /**
     * Spends the token and, in the same statement, sets the user's password, clears any lockout
     * and revokes every family of the user: either all of it happens or none. Null when the
     * token is unknown, spent, expired, or its user is disabled (then the token stays unspent,
     * for when the account is enabled again). (One statement across three
     * tables, so that a reset can never be half applied.)
     */
    async consume(r: { tokenHash: string; passwordHash: string; now: Date }): Promise<{ userId: string; revokedFamilies: string[] } | null> {
      const rows = await session.query<{ user_id: string; revoked: string[] }>(
        `WITH t AS (UPDATE password_reset_tokens AS r SET used_at = $3 FROM users AS owner
                     WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $3
                       AND owner.id = r.user_id AND owner.disabled_at IS NULL RETURNING r.user_id),
              u AS (UPDATE users SET password_hash = $2, updated_at = $3
                      FROM t WHERE users.id = t.user_id RETURNING users.id, users.email),
              l AS (DELETE FROM login_failures USING u WHERE login_failures.key = encode(sha256(convert_to(u.email, 'UTF8')), 'hex')),
              f AS (UPDATE refresh_families SET revoked_at = $3, revoked_reason = 'password_reset'
                      FROM u WHERE refresh_families.user_id = u.id AND refresh_families.revoked_at IS NULL RETURNING refresh_families.id)
         SELECT u.id AS user_id, COALESCE((SELECT array_agg(f.id::text) FROM f), '{}') AS revoked FROM u`,
        [r.tokenHash, r.passwordHash, r.now],
      )
      const row = rows[0]
      if (row && row.revoked.length > 0) revoked(r.now)
      return row ? { userId: row.user_id, revokedFamilies: row.revoked } : null
    },

    /** Deletes up to `batch` tokens that were used or have expired; returns how many. */
    async purgeSpent(now: Date, batch: number): Promise<number> {
      const rows = await session.query(
        'DELETE FROM password_reset_tokens WHERE id IN (SELECT id FROM password_reset_tokens WHERE used_at IS NOT NULL OR expires_at <= $1 LIMIT $2) RETURNING 1',
        [now, batch],
      )
      return rows.length
    },
  }
}

export type PasswordResetStore = ReturnType<typeof passwordResetStore>
