// Failed password checks, counted per sign-in name and shared by every instance through the
// database (docs/errors.md#rate-limited): LOCKOUT_THRESHOLD failures within LOCKOUT_WINDOW lock
// the name for LOCKOUT_DURATION. The name is the SHA-256 of the normalised email, whether or not
// such an account exists, so a lockout reads the same for an account that does not.
import { createHash } from 'node:crypto'
import type { PrismaClient, Session } from './database.js'

/** The key of a (normalised) email; the same as SQL's encode(sha256(convert_to(email, 'UTF8')), 'hex'). */
export const lockoutKey = (email: string): string => createHash('sha256').update(email, 'utf8').digest('hex')

export interface LockoutState {
  failures: number
  lockedUntil: Date | null
}

export interface Policy {
  threshold: number
  /** Seconds. */
  window: number
  /** Seconds. */
  duration: number
}

export function lockoutStore(prisma: PrismaClient, session: Session) {
  return {
    /** Counts one failure; returns the state after it, and whether this failure locked the name. */
    async fail(key: string, now: Date, p: Policy): Promise<LockoutState & { lockedNow: boolean }> {
      const cutoff = new Date(now.getTime() - p.window * 1000)
      const until = new Date(now.getTime() + p.duration * 1000)
      // A window that is over, or a lock that was served, starts the count again.
      const fresh = 'f.window_start <= $3 OR f.locked_until <= $2'
      const rows = await session.query<{ count: number; locked_until: Date | null }>(
        `INSERT INTO login_failures AS f (key, count, window_start, locked_until)
         VALUES ($1, 1, $2, CASE WHEN $4::int <= 1 THEN $5::timestamptz END)
         ON CONFLICT (key) DO UPDATE SET
           count = CASE WHEN ${fresh} THEN 1 ELSE f.count + 1 END,
           window_start = CASE WHEN ${fresh} THEN $2 ELSE f.window_start END,
           locked_until = CASE WHEN (CASE WHEN ${fresh} THEN 1 ELSE f.count + 1 END) >= $4 THEN $5
                               WHEN f.locked_until > $2 THEN f.locked_until END
         RETURNING count, locked_until`,
        [key, now, cutoff, p.threshold, until],
      )
      const row = rows[0]!
      return { failures: row.count, lockedUntil: row.locked_until, lockedNow: row.locked_until?.getTime() === until.getTime() }
    },

    async state(key: string): Promise<LockoutState> {
      const row = await prisma.loginFailure.findUnique({ where: { key } })
      return { failures: row?.count ?? 0, lockedUntil: row?.lockedUntil ?? null }
    },

    /** The states of several names at once (an admin's page of users). */
    async states(keys: string[]): Promise<Map<string, LockoutState>> {
      const rows = await prisma.loginFailure.findMany({ where: { key: { in: keys } } })
      return new Map(rows.map((r) => [r.key, { failures: r.count, lockedUntil: r.lockedUntil }]))
    },

    /** Forgets the failures of a name: a success, a password reset, an admin's unlock. */
    async clear(key: string): Promise<void> {
      await prisma.loginFailure.deleteMany({ where: { key } })
    },

    /** Deletes up to `batch` rows whose window is long over and that hold no lock; returns how many. */
    async purgeStale(before: Date, now: Date, batch: number): Promise<number> {
      const rows = await session.query(
        `DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures
           WHERE window_start < $1 AND (locked_until IS NULL OR locked_until <= $2) LIMIT $3) RETURNING 1`,
        [before, now, batch],
      )
      return rows.length
    },
  }
}

export type LockoutStore = ReturnType<typeof lockoutStore>
