// The audit trail: one row per security event (docs/endpoints.md#audit-events), written through
// here so that every event is one of the known types and a failed write never fails the request
// it describes (it is logged instead).
import type { Clock } from '../lib/clock.js'
import type { AuditEntry, AuditStore } from '../stores/audit.js'

/** Where a request came from, as audit rows and refresh families record it. */
export interface RequestMeta {
  ip: string | null
  userAgent: string | null
}

const AUDIT_EVENTS = [
  'signin.ok',
  'signin.failed',
  'account.locked',
  'refresh.reuse_detected',
  'family.revoked',
  'password.changed',
  'password.reset_requested',
  'password.reset',
  'user.created',
  'consent.granted',
  'consent.denied',
  'consent.withdrawn',
  'code.replayed',
  'signout',
  'user.disabled',
  'user.enabled',
  'user.role_changed',
  'user.unlocked',
  'client.created',
  'client.deleted',
  'key.rotated',
  'key.retired',
  'key.imported',
] as const
export type AuditEventType = (typeof AUDIT_EVENTS)[number]

export interface AuditEvent extends Omit<AuditEntry, 'type'> {
  type: AuditEventType
}

export interface AuditTrail {
  record(event: AuditEvent): Promise<void>
  /** One `family.revoked` row per family, in one write. */
  familiesRevoked(sids: string[], reason: string, who: Omit<AuditEvent, 'type' | 'details'>): Promise<void>
}

interface Log {
  error(obj: object, msg: string): void
}

/**
 * Events are stamped with the app's clock. With a log (the server), a failed write is logged
 * and swallowed; without one (the CLI), it throws.
 */
export function auditTrail(store: Pick<AuditStore, 'record' | 'recordMany'>, clock: Clock, log?: Log): AuditTrail {
  async function write(events: AuditEvent[]): Promise<void> {
    const at = new Date(clock.now())
    try {
      await (events.length === 1 ? store.record({ at, ...events[0]! }) : store.recordMany(events.map((e) => ({ at, ...e }))))
    } catch (err) {
      if (!log) throw err
      // The events happened whether or not their rows were written: the answer stands.
      log.error({ err, audit: events.map((e) => ({ type: e.type, subjectId: e.subjectId, clientId: e.clientId })) }, 'audit event not written')
    }
  }
  return {
    record: (event) => write([event]),
    async familiesRevoked(sids, reason, who) {
      if (sids.length > 0) await write(sids.map((sid) => ({ type: 'family.revoked', ...who, details: { sid, reason } })))
    },
  }
}
