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

/** An entry as the statements' parameters, in column order. */
const row = (e: AuditEntry): unknown[] => [
  e.type,
  e.actorId ?? null,
  e.subjectId ?? null,
  e.clientId ?? null,
  e.ip ?? null,
  e.userAgent ?? null,
  e.details === undefined ? null : JSON.stringify(e.details),
  e.at ?? null,
]

export interface AuditFilter {
  type?: string | undefined
  /** The user the event is about, or who did it. */
  userId?: string | undefined
  clientId?: string | undefined
  since?: Date | undefined
  until?: Date | undefined
  beforeId?: bigint | undefined
  limit: number
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
        row(e),
      )
    },

    /** Several events in one statement (a password change that signs out many sessions). */
    async recordMany(events: AuditEntry[]): Promise<void> {
      const columns = 8
      const values = events.map((_, i) => `(${Array.from({ length: columns }, (_, c) => `$${i * columns + c + 1}`).join(', ')})`)
      await session.query(
        `INSERT INTO audit_events (type, actor_id, subject_id, client_id, ip, user_agent, details, at)
         SELECT type, actor_id, subject_id, client_id, ip, user_agent, details::jsonb, COALESCE(at::timestamptz, CURRENT_TIMESTAMP)
           FROM (VALUES ${values.join(', ')}) AS v (type, actor_id, subject_id, client_id, ip, user_agent, details, at)`,
        events.flatMap(row),
      )
    },

    /** Newest first; `limit` at most, older than the event `beforeId`. */
    async list(f: AuditFilter): Promise<AuditEvent[]> {
      const rows = await prisma.auditEvent.findMany({
        where: {
          ...(f.type !== undefined ? { type: f.type } : {}),
          ...(f.userId !== undefined ? { OR: [{ subjectId: f.userId }, { actorId: f.userId }] } : {}),
          ...(f.clientId !== undefined ? { clientId: f.clientId } : {}),
          ...(f.since || f.until ? { at: { ...(f.since ? { gte: f.since } : {}), ...(f.until ? { lt: f.until } : {}) } } : {}),
          ...(f.beforeId !== undefined ? { id: { lt: f.beforeId } } : {}),
        },
        orderBy: { id: 'desc' },
        take: f.limit,
      })
      return rows.map((r) => ({ ...r, id: r.id.toString() }))
    },

    /** Deletes up to `batch` events from before `before`; returns how many. */
    async purgeOlderThan(before: Date, batch: number): Promise<number> {
      const rows = await session.query('DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 LIMIT $2) RETURNING 1', [before, batch])
      return rows.length
    },
  }
}

export type AuditStore = ReturnType<typeof auditStore>
