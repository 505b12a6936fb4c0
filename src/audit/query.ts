// Reading the audit trail, for the admin API and `tessera audit list`: newest first, filtered
// by type, user (the subject or the actor), client and time range, a page at a time.
import { decodeCursor, page } from '../lib/cursor.js'
import { InvalidRequest } from '../oauth/errors.js'
import type { AuditStore, AuditEvent as StoredEvent } from '../stores/audit.js'

export const eventView = (e: StoredEvent) => ({
  id: e.id,
  at: e.at.toISOString(),
  type: e.type,
  actor_id: e.actorId,
  subject_id: e.subjectId,
  client_id: e.clientId,
  ip: e.ip,
  user_agent: e.userAgent,
  details: e.details ?? null,
})

/** The largest bigint: audit ids are Postgres int8. */
const MAX_ID = 9223372036854775807n

export interface EventQuery {
  type?: string | undefined
  userId?: string | undefined
  clientId?: string | undefined
  since?: Date | undefined
  until?: Date | undefined
  cursor?: string | undefined
  limit: number
}

export async function listEvents(deps: { audit: Pick<AuditStore, 'list'> }, q: EventQuery) {
  let beforeId: bigint | undefined
  if (q.cursor !== undefined) {
    const key = decodeCursor(q.cursor, ['string', 'string'])
    if (key?.[0] !== 'audit' || !/^[0-9]{1,19}$/.test(key[1]) || BigInt(key[1]) > MAX_ID) throw new InvalidRequest('The cursor is not one this API gave.')
    beforeId = BigInt(key[1])
  }
  if (q.since && q.until && q.since >= q.until) throw new InvalidRequest('since must be before until.')
  const rows = await deps.audit.list({ type: q.type, userId: q.userId, clientId: q.clientId, since: q.since, until: q.until, beforeId, limit: q.limit + 1 })
  const p = page(rows, q.limit, (e) => ['audit', e.id])
  return { items: p.items.map(eventView), next_cursor: p.next_cursor }
}
