// Token revocation (RFC 7009, docs/tokens.md#revocation): a refresh token takes its whole family
// with it, and so every access token of that family; an access token's jti is denied until
// the token would have expired anyway.
import type { AuditTrail, RequestMeta } from '../audit/trail.js'
import type { Clock } from '../lib/clock.js'
import type { Client } from '../stores/clients.js'
import type { FamilyStore } from '../stores/families.js'
import type { RevocationStore } from '../stores/revocations.js'
import { UnauthorizedClient } from './errors.js'
import type { VerifiedToken } from './tokens/verify.js'

export interface RevocationDeps {
  families: Pick<FamilyStore, 'revoke'>
  revocations: Pick<RevocationStore, 'revoke'>
  audit: AuditTrail
  clock: Clock
}

export async function revokeToken(deps: RevocationDeps, verified: VerifiedToken, client: Client, meta: RequestMeta): Promise<void> {
  const { claims } = verified
  // RFC 7009 §2.1: the token must have been issued to the client revoking it.
  if (claims.client_id !== client.id) throw new UnauthorizedClient('This token was not issued to this client.')
  if (verified.kind === 'access') return deps.revocations.revoke(claims.jti, new Date(claims.exp * 1000), new Date(deps.clock.now()))
  const reason = 'revoked_by_client'
  if (await deps.families.revoke(claims.sid!, reason, new Date(deps.clock.now()))) {
    await deps.audit.record({ type: 'family.revoked', subjectId: claims.sub, clientId: client.id, ...meta, details: { sid: claims.sid, reason } })
  }
}
