// Authorization codes (RFC 6749 §4.1.2, docs/pages.md#codes): random, single use, 60 s, bound
// to the client, redirect URI, PKCE challenge, nonce, scope, user and auth time. Stored as a
// hash; consumed by one conditional UPDATE, so two exchanges of one code cannot both win, on
// any number of instances.
import { createHash, randomBytes } from 'node:crypto'
import type { PrismaClient, Session } from './database.js'

export interface AuthorizationCode {
  clientId: string
  userId: string
  sessionId: string
  redirectUri: string
  codeChallenge: string
  nonce: string | null
  scope: string
  authTime: Date
  expiresAt: Date
}

/** What a consumed code's row says: the exchange that won, or the one this replays. */
export type Consumed = { won: true; code: AuthorizationCode } | { won: false; code: AuthorizationCode; familyId: string | null; usedAt: Date } | null

const codeHash = (code: string): string => createHash('sha256').update(code).digest('base64url')

const COLUMNS = `client_id AS "clientId", user_id AS "userId", session_id AS "sessionId", redirect_uri AS "redirectUri",
                 code_challenge AS "codeChallenge", nonce, scope, auth_time AS "authTime", expires_at AS "expiresAt"`

export function authorizationCodeStore(prisma: PrismaClient, session: Session) {
  return {
    /** Stores a new code; returns the code itself (only the redirect carries it). */
    async issue(c: AuthorizationCode, now: Date): Promise<string> {
      const code = randomBytes(32).toString('base64url')
      await prisma.authorizationCode.create({ data: { ...c, codeHash: codeHash(code), createdAt: now } })
      return code
    },

    /**
     * Spends a code for the family `familyId` is to be: the first call wins and names that
     * family in the row; a later call gets the row, the family the winner started and when.
     */
    async consume(code: string, familyId: string, now: Date): Promise<Consumed> {
      if (code.length > 100) return null
      const hash = codeHash(code)
      const won = await session.query<AuthorizationCode>(
        `UPDATE authorization_codes SET used_at = $2, family_id = $3::uuid WHERE code_hash = $1 AND used_at IS NULL RETURNING ${COLUMNS}`,
        [hash, now, familyId],
      )
      if (won[0]) return { won: true, code: won[0] }
      // A replay: marked, so that an exchange still starting its family sees it (replayedSince).
      const seen = await session.query<AuthorizationCode & { familyId: string | null; usedAt: Date }>(
        `UPDATE authorization_codes SET replayed_at = COALESCE(replayed_at, $2) WHERE code_hash = $1
         RETURNING ${COLUMNS}, family_id AS "familyId", used_at AS "usedAt"`,
        [hash, now],
      )
      const row = seen[0]
      if (!row) return null
      const { familyId: family, usedAt, ...rest } = row
      return { won: false, code: rest, familyId: family, usedAt }
    },

    /**
     * True when the code was presented again after `consume` gave it to the exchange that won:
     * that exchange, once its family exists, checks this and revokes it, so that a replay racing
     * the first exchange revokes what it issued however the two interleave.
     */
    async replayed(code: string): Promise<boolean> {
      const rows = await session.query<{ replayed: boolean }>('SELECT replayed_at IS NOT NULL AS replayed FROM authorization_codes WHERE code_hash = $1', [
        codeHash(code),
      ])
      return rows[0]?.replayed ?? false
    },

    /** Deletes up to `batch` codes that expired before `before`; returns how many. */
    async purgeExpired(before: Date, batch: number): Promise<number> {
      const rows = await session.query(
        `DELETE FROM authorization_codes WHERE code_hash IN (SELECT code_hash FROM authorization_codes WHERE expires_at < $1 LIMIT $2) RETURNING 1`,
        [before, batch],
      )
      return rows.length
    },
  }
}

export type AuthorizationCodeStore = ReturnType<typeof authorizationCodeStore>
