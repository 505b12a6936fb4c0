// The revocation feed's reads (docs/tokens.md#revocation-feed), over the three places a
// revocation lives: revoked families, denied access-token jtis, and the sids of revoked
// families deleted with their client. Each is read in order of revoked_at, through its index.
import type { Session } from './database.js'

/** Told, after a revocation is written, when it took effect (its revoked_at). */
export type RevokedSignal = (at: Date) => void

/** One signal for every store that revokes; the feed listens to it. */
export function revocationSignal() {
  const listeners = new Set<RevokedSignal>()
  return {
    notify(at: Date): void {
      for (const listener of listeners) listener(at)
    },
    /** Listens until the returned function is called. */
    listen(listener: RevokedSignal): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

export type RevocationSignal = ReturnType<typeof revocationSignal>

/**
 * Where the feed stands: its newest revoked_at, and how many revocations lie within `windowMs`
 * before it. The count changes when a revocation lands just before the newest one (written
 * with an earlier time, but committed later, or on an instance whose clock is behind).
 */
export interface FeedMark {
  newest: Date | null
  recent: number
}

export interface FeedRows {
  sids: { sid: string; revokedAt: Date }[]
  jtis: { jti: string; expiresAt: Date }[]
}

export function revocationFeedStore(session: Session, signal: RevocationSignal) {
  return {
    listen: signal.listen,

    /** Three index-only reads of max(revoked_at) and three short index ranges: no table scan. */
    async mark(windowMs: number): Promise<FeedMark> {
      const rows = await session.prepared<{ newest: Date | null; recent: number }>(
        'tessera_feed_mark',
        `WITH m AS (SELECT GREATEST((SELECT max(revoked_at) FROM refresh_families),
                                    (SELECT max(revoked_at) FROM revoked_tokens),
                                    (SELECT max(revoked_at) FROM revoked_sessions)) AS newest),
              w AS (SELECT newest, newest - make_interval(secs => $1::int / 1000.0) AS start FROM m)
         SELECT w.newest,
                ((SELECT count(*) FROM refresh_families WHERE revoked_at > w.start)
                 + (SELECT count(*) FROM revoked_tokens WHERE revoked_at > w.start)
                 + (SELECT count(*) FROM revoked_sessions WHERE revoked_at > w.start))::int AS recent
           FROM w`,
        [windowMs],
      )
      const row = rows[0]
      return { newest: row?.newest ? new Date(row.newest) : null, recent: row?.recent ?? 0 }
    },

    /**
     * Revocations after `after` whose access tokens may still be alive at `now`: a family's
     * (deleted or not) while `revokedAt + ttl` lies ahead, which the caller folds into `after`;
     * a jti's while its token's exp does.
     */
    async rows(after: Date, now: Date): Promise<FeedRows> {
      const [sids, jtis] = await Promise.all([
        session.prepared<{ sid: string; revokedAt: Date }>(
          'tessera_feed_sids',
          `SELECT id::text AS sid, revoked_at AS "revokedAt" FROM refresh_families WHERE revoked_at > $1
           UNION ALL
           SELECT sid::text, revoked_at FROM revoked_sessions WHERE revoked_at > $1`,
          [after],
        ),
        session.prepared<{ jti: string; expiresAt: Date }>(
          'tessera_feed_jtis',
          `SELECT jti, expires_at AS "expiresAt" FROM revoked_tokens WHERE revoked_at > $1 AND expires_at > $2`,
          [after, now],
        ),
      ])
      return {
        sids: sids.map((r) => ({ sid: r.sid, revokedAt: new Date(r.revokedAt) })),
        jtis: jtis.map((r) => ({ jti: r.jti, expiresAt: new Date(r.expiresAt) })),
      }
    },

    /** Drops up to `batch` deleted families' sids revoked before `before`; returns how many. */
    async purgeSessions(before: Date, batch: number): Promise<number> {
      const rows = await session.query(
        'DELETE FROM revoked_sessions WHERE sid IN (SELECT sid FROM revoked_sessions WHERE revoked_at < $1 LIMIT $2) RETURNING 1',
        [before, batch],
      )
      return rows.length
    },
  }
}

export type RevocationFeedStore = ReturnType<typeof revocationFeedStore>
