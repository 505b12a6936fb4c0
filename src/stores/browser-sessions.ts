// Browser sessions (docs/pages.md#session): a browser signed in to Tessera's own pages. The
// cookie holds a random value; the row is named by its SHA-256, so a database dump names no
// session that a browser could present.
import { createHash, randomBytes } from 'node:crypto'
import type { PrismaClient, Session } from './database.js'

export interface BrowserSession {
  id: string
  userId: string
  authTime: Date
  expiresAt: Date
}

/** The row's id for a cookie value. */
export const sessionId = (cookie: string): string => createHash('sha256').update(cookie).digest('base64url')

export function browserSessionStore(prisma: PrismaClient, session: Session) {
  return {
    /** Starts a session; returns the cookie's value (shown only to the browser) and the row. */
    async start(s: { userId: string; now: Date; ttlSeconds: number; userAgent: string | null; ip: string | null }) {
      const cookie = randomBytes(32).toString('base64url')
      const row = await prisma.browserSession.create({
        data: {
          id: sessionId(cookie),
          userId: s.userId,
          authTime: s.now,
          expiresAt: new Date(s.now.getTime() + s.ttlSeconds * 1000),
          userAgent: s.userAgent,
          ip: s.ip,
          createdAt: s.now,
        },
        select: { id: true, userId: true, authTime: true, expiresAt: true },
      })
      return { cookie, session: row }
    },

    /** The live session a cookie names, of an enabled user; null otherwise. */
    async find(cookie: string, now: Date): Promise<BrowserSession | null> {
      if (cookie.length > 100) return null
      const rows = await session.query<BrowserSession>(
        `SELECT s.id, s.user_id AS "userId", s.auth_time AS "authTime", s.expires_at AS "expiresAt"
           FROM browser_sessions AS s JOIN users AS u ON u.id = s.user_id
          WHERE s.id = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND u.disabled_at IS NULL`,
        [sessionId(cookie), now],
      )
      return rows[0] ?? null
    },

    /** Ends one session; false if it had ended already. */
    async end(id: string, now: Date): Promise<boolean> {
      return (await prisma.browserSession.updateMany({ where: { id, endedAt: null }, data: { endedAt: now } })).count === 1
    },

    /** Ends every session of a user (password change or reset, disabled); returns how many. */
    async endAllOfUser(userId: string, now: Date): Promise<number> {
      return (await prisma.browserSession.updateMany({ where: { userId, endedAt: null }, data: { endedAt: now } })).count
    },

    /** Deletes up to `batch` sessions that ended or expired before `before`; returns how many. */
    async purgeEnded(before: Date, batch: number): Promise<number> {
      const rows = await session.query(
        `DELETE FROM browser_sessions WHERE id IN (SELECT id FROM browser_sessions WHERE expires_at < $1 OR ended_at < $1 LIMIT $2) RETURNING 1`,
        [before, batch],
      )
      return rows.length
    },
  }
}

export type BrowserSessionStore = ReturnType<typeof browserSessionStore>
