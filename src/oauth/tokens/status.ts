// Whether a token that verified (signature, issuer, type, exp) is still good: the one answer
// /introspect, the bearer routes and revocation share (docs/tokens.md#live-families).
import { type FamilyStore, isLive } from '../../stores/families.js'
import type { RevocationStore } from '../../stores/revocations.js'
import type { VerifiedToken } from './verify.js'

/** `active`, or why not: the jti was revoked, the family is not live (or its user disabled), the refresh token was spent. */
export type TokenStatus = 'active' | 'revoked' | 'session_ended' | 'superseded'

export interface StatusDeps {
  revocations: Pick<RevocationStore, 'isRevoked'>
  families: Pick<FamilyStore, 'status'>
}

export async function tokenStatus(deps: StatusDeps, { kind, claims }: VerifiedToken, now: Date): Promise<TokenStatus> {
  if (kind === 'access' && (await deps.revocations.isRevoked(claims.jti))) return 'revoked'
  // client_credentials tokens belong to no family.
  if (!claims.sid) return 'active'
  const family = await deps.families.status(claims.sid)
  // A disabled user's sessions are over, whether or not their families were revoked yet.
  if (!family || !isLive(family, now) || family.userDisabledAt !== null) return 'session_ended'
  // A refresh token is good only while it is its family's current one.
  if (kind === 'refresh' && family.currentJti !== claims.jti) return 'superseded'
  return 'active'
}
