// Refresh-token families (docs/tokens.md#refresh-families): one per sign-in; exactly one usable
// token at a time. Rotation is one conditional UPDATE … RETURNING: zero rows means spent,
// revoked or expired. What "live" means is defined here once, for JavaScript and for SQL.
import { isUuid } from '../lib/ids.js'
import type { PrismaClient, Session } from './database.js'
import type { RevokedSignal } from './revocation-feed.js'

export interface Family {
  id: string
  userId: string
  clientId: string
  scope: string
  currentJti: string
  previousJti: string | null
  currentKid: string
  currentIat: number
  currentExp: number
  generation: number
  rotatedAt: Date | null
  expiresAt: Date
  idleExpiresAt: Date
  revokedAt: Date | null
  revokedReason: string | null
  userAgent: string | null
  ip: string | null
  sessionId: string | null
  authTime: Date | null
  createdAt: Date
  lastUsedAt: Date
}

/**
 * A refresh token to be made a family's current one, as the token service chose it. Its `exp`
 * is the idle lifetime from `iat`; the store caps it at the family's absolute end.
 */
export interface NextToken {
  jti: string
  kid: string
  iat: number
  exp: number
}

export interface NewFamily {
  id: string
  userId: string
  clientId: string
  scope: string
  token: NextToken
  expiresAt: Date
  userAgent: string | null
  ip: string | null
  now: Date
  /** The browser session it starts from, and when the user authenticated there (authorization code). */
  sessionId?: string | null
  authTime?: Date | null
}

/** What signing a family's current refresh token needs (again, byte for byte). */
export type SignableFamily = Pick<Family, 'id' | 'userId' | 'clientId' | 'scope' | 'currentJti' | 'currentKid' | 'currentIat' | 'currentExp'>

/** A family's liveness and its user's state (tokenStatus). */
export interface FamilyStatus extends Pick<Family, 'revokedAt' | 'expiresAt' | 'idleExpiresAt' | 'currentJti'> {
  userDisabledAt: Date | null
}

/** What a rotation that won returns: the family with its new token, and the role of its (enabled) user. */
export interface RotationWin {
  family: SignableFamily
  role: 'user' | 'admin'
}

/**
 * A family is live while it is not revoked and both its ends lie ahead: the absolute one
 * (REFRESH_FAMILY_TTL, never moved) and the idle one (REFRESH_TOKEN_TTL from the last
 * rotation). Only a live family's current refresh token refreshes, and only a live family's
 * access tokens are active (docs/tokens.md#live-families).
 */
export function isLive(f: Pick<Family, 'revokedAt' | 'expiresAt' | 'idleExpiresAt'>, now: Date): boolean {
  return f.revokedAt === null && f.expiresAt > now && f.idleExpiresAt > now
}

/** The same condition in SQL, over the table alias `f`, with `now` a placeholder such as `$7`. */
const liveSql = (now: string) => `f.revoked_at IS NULL AND f.expires_at > ${now} AND f.idle_expires_at > ${now}`

/** The same condition as a Prisma filter. */
const liveWhere = (now: Date) => ({ revokedAt: null, expiresAt: { gt: now }, idleExpiresAt: { gt: now } })

/** A token's exp, never past its family's absolute end: the one rule for the first token and every rotation. */
const cappedExp = (exp: string, familyEnd: string) => `LEAST(${exp}::int, floor(extract(epoch FROM ${familyEnd}))::int)`

const SIGNABLE = `f.id, f.user_id AS "userId", f.client_id AS "clientId", f.scope, f.current_jti AS "currentJti",
                  f.current_kid AS "currentKid", f.current_iat AS "currentIat", f.current_exp AS "currentExp"`

/**
 * `revoked` hears of every revocation this store writes, once it is written: the revocation
 * feed of this instance learns of it at once (docs/tokens.md#revocation-feed).
 */
export function familyStore(prisma: PrismaClient, session: Session, revoked: RevokedSignal = () => {}) {
  /** Passes `n` through, telling the feed when it is more than zero. */
  const told = <T extends number | boolean | string[]>(result: T, now: Date): T => {
    if (result === true || (typeof result === 'number' && result > 0) || (Array.isArray(result) && result.length > 0)) revoked(now)
    return result
  }
  return {
    /** Inserts a new family whose current token is `f.token`; returns what signing it needs. */
    async start(f: NewFamily): Promise<SignableFamily> {
      // Raw SQL, as rotate: one per sign-in, and Prisma's create reads the whole row back.
      const rows = await session.prepared<SignableFamily>(
        'tessera_start_family',
        `WITH t AS (SELECT ${cappedExp('$8', '$9::timestamptz')} AS exp)
         INSERT INTO refresh_families AS f (id, user_id, client_id, scope, current_jti, current_kid, current_iat, current_exp,
                                            expires_at, idle_expires_at, user_agent, ip, created_at, last_used_at, session_id, auth_time)
         SELECT $1::uuid, $2::uuid, $3, $4, $5, $6, $7, t.exp, $9, to_timestamp(t.exp), $10, $11, $12, $12, $13, $14 FROM t
         RETURNING ${SIGNABLE}`,
        [
          f.id,
          f.userId,
          f.clientId,
          f.scope,
          f.token.jti,
          f.token.kid,
          f.token.iat,
          f.token.exp,
          f.expiresAt,
          f.userAgent,
          f.ip,
          f.now,
          f.sessionId ?? null,
          f.authTime ?? null,
        ],
      )
      return rows[0]!
    },

    /** What deciding whether a token of the family is active needs, its user's state included, in one query. */
    async status(id: string): Promise<FamilyStatus | null> {
      if (!isUuid(id)) return null
      const rows = await session.prepared<FamilyStatus>(
        'tessera_family_status',
        `SELECT f.revoked_at AS "revokedAt", f.expires_at AS "expiresAt", f.idle_expires_at AS "idleExpiresAt",
                f.current_jti AS "currentJti", u.disabled_at AS "userDisabledAt"
           FROM refresh_families AS f JOIN users AS u ON u.id = f.user_id WHERE f.id = $1::uuid`,
        [id],
      )
      return rows[0] ?? null
    },

    findById(id: string): Promise<Family | null> {
      if (!isUuid(id)) return Promise.resolve(null)
      return prisma.refreshFamily.findUnique({ where: { id } })
    },

    /**
     * Spends `presentedJti` and makes `next` the family's token, if and only if the presented
     * token is the current one of a live family whose user is enabled (and whose scope covers
     * `withinScope`). One statement, one round trip: two concurrent refreshes with the same
     * token cannot both win, on any number of instances.
     */
    async rotate(r: { id: string; presentedJti: string; next: NextToken; now: Date; withinScope?: string[] | undefined }): Promise<RotationWin | null> {
      const { next, now } = r
      // Raw SQL through the driver, not Prisma: this is the hottest write in Tessera, and the
      // query engine's overhead showed in the profile. Only what the response needs comes back.
      const rows = await session.prepared<SignableFamily & { role: 'user' | 'admin' }>(
        'tessera_rotate_family',
        `WITH t AS (SELECT ${cappedExp('$4', 'f.expires_at')} AS exp FROM refresh_families AS f WHERE f.id = $1::uuid)
         UPDATE refresh_families AS f
            SET previous_jti = f.current_jti, current_jti = $3, current_kid = $5, current_iat = $6,
                current_exp = t.exp, generation = f.generation + 1, rotated_at = $7, last_used_at = $7,
                idle_expires_at = to_timestamp(t.exp)
           FROM users AS u, t
          WHERE f.id = $1::uuid AND f.current_jti = $2 AND ${liveSql('$7')}
            AND string_to_array(f.scope, ' ') @> $8::text[]
            AND u.id = f.user_id AND u.disabled_at IS NULL
         RETURNING ${SIGNABLE}, u.role::text AS role`,
        [r.id, r.presentedJti, next.jti, next.exp, next.kid, next.iat, now, r.withinScope ?? []],
      )
      const row = rows[0]
      if (!row) return null
      const { role, ...family } = row
      return { family, role }
    },

    /** Revokes a live family; false if it was already revoked (or does not exist). */
    async revoke(id: string, reason: string, now: Date): Promise<boolean> {
      const r = await prisma.refreshFamily.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } })
      return told(r.count === 1, now)
    },

    /** Revokes one of a user's families; false if it is not theirs, or not live. */
    async revokeOfUser(userId: string, id: string, reason: string, now: Date): Promise<boolean> {
      if (!isUuid(id)) return false
      const r = await prisma.refreshFamily.updateMany({ where: { id, userId, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } })
      return told(r.count === 1, now)
    },

    /** Revokes every live family of a user, but `exceptId` (the session that asked); returns the ids revoked. */
    async revokeAllOfUser(userId: string, reason: string, now: Date, exceptId?: string): Promise<string[]> {
      const rows = await session.query<{ id: string }>(
        `UPDATE refresh_families SET revoked_at = $2, revoked_reason = $3
          WHERE user_id = $1::uuid AND revoked_at IS NULL AND ($4::uuid IS NULL OR id <> $4::uuid) RETURNING id`,
        [userId, now, reason, exceptId ?? null],
      )
      return told(
        rows.map((r) => r.id),
        now,
      )
    },

    /** Revokes every live family of a user with one client (the user withdrew their consent); returns the ids revoked. */
    async revokeAllOfUserAndClient(userId: string, clientId: string, reason: string, now: Date): Promise<string[]> {
      const rows = await session.query<{ id: string }>(
        `UPDATE refresh_families SET revoked_at = $3, revoked_reason = $4 WHERE user_id = $1::uuid AND client_id = $2 AND revoked_at IS NULL RETURNING id`,
        [userId, clientId, now, reason],
      )
      return told(
        rows.map((r) => r.id),
        now,
      )
    },

    /** Revokes every live family started from a browser session (its /logout); returns the ids revoked. */
    async revokeAllOfSession(sessionId: string, reason: string, now: Date): Promise<string[]> {
      const rows = await session.query<{ id: string }>(
        `UPDATE refresh_families SET revoked_at = $2, revoked_reason = $3 WHERE session_id = $1 AND revoked_at IS NULL RETURNING id`,
        [sessionId, now, reason],
      )
      return told(
        rows.map((r) => r.id),
        now,
      )
    },

    /**
     * Revokes every live family of a client (it is being deleted, and its families with it);
     * returns how many. Every revoked family of the client, this one's and earlier ones, is
     * also kept in revoked_sessions, so the revocation feed still lists its sid once the row
     * is gone (until its access tokens have expired; the retention job drops it then).
     */
    async revokeAllOfClient(clientId: string, reason: string, now: Date): Promise<number> {
      // The second SELECT sees the table as it was before this statement's UPDATE: the
      // families it revokes are not in it twice.
      const rows = await session.query<{ n: number }>(
        `WITH r AS (UPDATE refresh_families SET revoked_at = $2, revoked_reason = $3 WHERE client_id = $1 AND revoked_at IS NULL RETURNING id, revoked_at),
              k AS (INSERT INTO revoked_sessions (sid, revoked_at)
                    SELECT id, revoked_at FROM r
                    UNION ALL SELECT id, revoked_at FROM refresh_families WHERE client_id = $1 AND revoked_at IS NOT NULL
                    ON CONFLICT (sid) DO NOTHING)
         SELECT count(*)::int AS n FROM r`,
        [clientId, now, reason],
      )
      return told(rows[0]?.n ?? 0, now)
    },

    /** A user's live families (their sessions, one per device), most recently used first. */
    listLive(userId: string, now: Date): Promise<Family[]> {
      return prisma.refreshFamily.findMany({ where: { userId, ...liveWhere(now) }, orderBy: [{ lastUsedAt: 'desc' }, { id: 'asc' }] })
    },

    /** Deletes up to `batch` families whose absolute end is before `before`; returns how many. */
    async purgeEnded(before: Date, batch: number): Promise<number> {
      const rows = await session.query(
        `DELETE FROM refresh_families WHERE id IN (SELECT id FROM refresh_families WHERE expires_at < $1 LIMIT $2) RETURNING 1`,
        [before, batch],
      )
      return rows.length
    },

    /** True while a live family's current refresh token was signed by `kid` (the key must be kept). */
    async anyLiveSignedBy(kid: string, now: Date): Promise<boolean> {
      return (await prisma.refreshFamily.count({ where: { currentKid: kid, ...liveWhere(now) } })) > 0
    },

    /** Revokes every family whose current token `kid` signed (that key was compromised); returns how many. */
    async revokeSignedBy(kid: string, reason: string, now: Date): Promise<number> {
      return told(
        (await prisma.refreshFamily.updateMany({ where: { currentKid: kid, revokedAt: null }, data: { revokedAt: now, revokedReason: reason } })).count,
        now,
      )
    },
  }
}

export type FamilyStore = ReturnType<typeof familyStore>
