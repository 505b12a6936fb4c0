// The audit trail: one row per security event (docs/endpoints.md#audit-events), written through
// here so that every event is one of the known types and a failed write never fails the request
// it describes (it is logged instead).
import type { AuditEntry, AuditStore } from '../stores/audit.js'

/** Where a request came from, as audit rows and refresh families record it. */
export interface RequestMeta {
  ip: string | null
  userAgent: string | null
}

const AUDIT_EVENTS = [
  'signin.ok',
  'signin.failed',
  'refresh.reuse_detected',
  'family.revoked',
  'user.created',
  'client.created',
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
}

interface Log {
  error(obj: object, msg: string): void
}

/** With a log (the server), a failed write is logged and swallowed; without one (the CLI), it throws. */
export function auditTrail(store: Pick<AuditStore, 'record'>, log?: Log): AuditTrail {
  return {
    async record(event) {
      try {
        await store.record(event)
      } catch (err) {
        if (!log) throw err
        // The event happened whether or not its row was written: the answer stands.
        log.error({ err, audit: { type: event.type, subjectId: event.subjectId, clientId: event.clientId } }, 'audit event not written')
      }
    },
  }
}
