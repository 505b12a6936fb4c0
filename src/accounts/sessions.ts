// A user's sessions are their live refresh families, one per device (docs/endpoints.md#me-sessions):
// listed with the one the caller's token belongs to marked, and signed out one or all at once.
import type { AuditTrail, RequestMeta } from '../audit/trail.js'
import type { Clock } from '../lib/clock.js'
import { NotFound } from '../oauth/errors.js'
import type { Family, FamilyStore } from '../stores/families.js'

export interface SessionDeps {
  families: Pick<FamilyStore, 'listLive' | 'revokeOfUser' | 'revokeAllOfUser'>
  audit: AuditTrail
  clock: Clock
}

export const sessionView = (f: Family, currentSid: string | undefined) => ({
  id: f.id,
  client_id: f.clientId,
  created_at: f.createdAt.toISOString(),
  last_used_at: f.lastUsedAt.toISOString(),
  user_agent: f.userAgent,
  ip: f.ip,
  current: f.id === currentSid,
})

export async function listSessions(deps: SessionDeps, userId: string, currentSid: string | undefined) {
  return (await deps.families.listLive(userId, new Date(deps.clock.now()))).map((f) => sessionView(f, currentSid))
}

const REASON = 'signed_out'

/** Signs out one of the user's sessions; another user's, or one that is not live, is not found (ids cannot be probed). */
export async function signOut(deps: SessionDeps, c: { userId: string; sid: string; clientId: string; meta: RequestMeta }): Promise<void> {
  if (!(await deps.families.revokeOfUser(c.userId, c.sid, REASON, new Date(deps.clock.now())))) throw new NotFound('No such session.')
  await deps.audit.familiesRevoked([c.sid], REASON, { actorId: c.userId, subjectId: c.userId, clientId: c.clientId, ...c.meta })
}

/** Signs out every session of the user, the caller's own included; returns how many. */
export async function signOutAll(deps: SessionDeps, c: { userId: string; clientId: string; meta: RequestMeta }): Promise<number> {
  const revoked = await deps.families.revokeAllOfUser(c.userId, REASON, new Date(deps.clock.now()))
  await deps.audit.familiesRevoked(revoked, REASON, { actorId: c.userId, subjectId: c.userId, clientId: c.clientId, ...c.meta })
  return revoked.length
}
