// tokenStatus: whether a token that verified is still good, the one answer /introspect, the
// bearer routes and revocation share (docs/tokens.md#live-families).
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { type TokenStatus, tokenStatus } from '../../../src/oauth/tokens/status.js'
import type { VerifiedToken } from '../../../src/oauth/tokens/verify.js'
import type { Family, FamilyStore } from '../../../src/stores/families.js'
import type { RevocationStore } from '../../../src/stores/revocations.js'

const now = new Date(Date.UTC(2026, 10, 23, 12, 0, 0))
const later = (s: number) => new Date(now.getTime() + s * 1000)
const SID = randomUUID()

const family: Family = {
  id: SID,
  userId: randomUUID(),
  clientId: 'web',
  scope: 'read',
  currentJti: 'rt-current',
  previousJti: 'rt-previous',
  currentKid: 'k',
  currentIat: 0,
  currentExp: 0,
  generation: 1,
  rotatedAt: now,
  expiresAt: later(3600),
  idleExpiresAt: later(600),
  revokedAt: null,
  revokedReason: null,
  userAgent: null,
  sessionId: null,
  authTime: null,
  ip: null,
  createdAt: now,
  lastUsedAt: now,
}

type Row = Family & { userDisabledAt?: Date | null }

function deps(row: Row | null, revoked: string[] = []) {
  const asked = { revocations: [] as string[], families: [] as string[] }
  const revocations: Pick<RevocationStore, 'isRevoked'> = {
    async isRevoked(jti) {
      asked.revocations.push(jti)
      return revoked.includes(jti)
    },
  }
  const families: Pick<FamilyStore, 'status'> = {
    async status(id) {
      asked.families.push(id)
      return row && row.id === id ? { ...row, userDisabledAt: row.userDisabledAt ?? null } : null
    },
  }
  return { deps: { revocations, families }, asked }
}

const token = (kind: 'access' | 'refresh', jti: string, sid?: string): VerifiedToken => ({
  kind,
  kid: 'k',
  claims: { iss: 'i', sub: 's', jti, exp: 0, iat: 0, client_id: 'web', ...(sid ? { sid } : {}) },
})

t.test('tokenStatus, in code order', async (t) => {
  // [what, token, family row, revoked jtis, status]
  const cases: [string, VerifiedToken, Row | null, string[], TokenStatus][] = [
    ['a revoked access token', token('access', 'at-1', SID), family, ['at-1'], 'revoked'],
    ['a revoked client_credentials token', token('access', 'at-cc'), null, ['at-cc'], 'revoked'],
    ['a client_credentials token (no family)', token('access', 'at-cc'), null, [], 'active'],
    ['an access token of a family that is gone', token('access', 'at-1', SID), null, [], 'session_ended'],
    ['an access token of a revoked family', token('access', 'at-1', SID), { ...family, revokedAt: now, revokedReason: 'logout' }, [], 'session_ended'],
    ['an access token at its family idle end', token('access', 'at-1', SID), { ...family, idleExpiresAt: now }, [], 'session_ended'],
    ['an access token past its family absolute end', token('access', 'at-1', SID), { ...family, expiresAt: later(-1) }, [], 'session_ended'],
    ['a refresh token of a revoked family', token('refresh', 'rt-current', SID), { ...family, revokedAt: now }, [], 'session_ended'],
    ['an access token of a disabled user', token('access', 'at-1', SID), { ...family, userDisabledAt: now }, [], 'session_ended'],
    ['a refresh token of a disabled user', token('refresh', 'rt-current', SID), { ...family, userDisabledAt: now }, [], 'session_ended'],
    ['a spent refresh token', token('refresh', 'rt-previous', SID), family, [], 'superseded'],
    ['the current refresh token', token('refresh', 'rt-current', SID), family, [], 'active'],
    ['an access token of a live family (rotation does not end it)', token('access', 'at-1', SID), family, [], 'active'],
    // The revocation list holds access-token jtis only; refresh tokens end with their family.
    ['a refresh token whose jti is on the access denylist', token('refresh', 'rt-current', SID), family, ['rt-current'], 'active'],
  ]
  for (const [what, verified, row, revoked, status] of cases) t.equal(await tokenStatus(deps(row, revoked).deps, verified, now), status, what)
})

t.test('lookups: refresh tokens skip the denylist, family-less tokens the families', async (t) => {
  const r = deps(family)
  await tokenStatus(r.deps, token('refresh', 'rt-current', SID), now)
  t.same(r.asked, { revocations: [], families: [SID] })
  const a = deps(null)
  await tokenStatus(a.deps, token('access', 'at-cc'), now)
  t.same(a.asked, { revocations: ['at-cc'], families: [] })
})
