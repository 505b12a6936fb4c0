// The audit trail (docs/endpoints.md#audit-events): one row per security event.
import type { PrismaClient, Session } from './database.js'

export interface AuditEntry {
  type: string
  actorId?: string | null
  subjectId?: string | null
  clientId?: string | null
  ip?: string | null
  userAgent?: string | null
  details?: Record<string, unknown>
  at?: Date
}

export interface AuditEvent {
  id: string
  at: Date
  type: string
  actorId: string | null
  subjectId: string | null
  clientId: string | null
  ip: string | null
  userAgent: string | null
  details: unknown
}

export function auditStore(prisma: PrismaClient, session: Session) {
  return {
    async record(e: AuditEntry): Promise<void> {
      // Raw SQL: every sign-in writes one, and Prisma's create (which reads the row back) cost
      // several times this statement's CPU (the password_vs_argon2 bench row).
      await session.prepared(
        'tessera_audit_record',
        `INSERT INTO audit_events (type, actor_id, subject_id, client_id, ip, user_agent, details, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, COALESCE($8::timestamptz, CURRENT_TIMESTAMP))`,
        [
          e.type,
          e.actorId ?? null,
          e.subjectId ?? null,
          e.clientId ?? null,
          e.ip ?? null,
          e.userAgent ?? null,
          e.details === undefined ? null : JSON.stringify(e.details),
          e.at ?? null,
        ],
      )
    },

    async list(filter: { type?: string; subjectId?: string; since?: Date; until?: Date; limit?: number } = {}): Promise<AuditEvent[]> {
      const rows = await prisma.auditEvent.findMany({
        where: {
          ...(filter.type ? { type: filter.type } : {}),
          ...(filter.subjectId ? { subjectId: filter.subjectId } : {}),
          ...(filter.since || filter.until ? { at: { ...(filter.since ? { gte: filter.since } : {}), ...(filter.until ? { lt: filter.until } : {}) } } : {}),
        },
        orderBy: { id: 'desc' },
        take: filter.limit ?? 100,
      })
      return rows.map((r) => ({ ...r, id: r.id.toString() }))
    },
  }
}

export type AuditStore = ReturnType<typeof auditStore>
