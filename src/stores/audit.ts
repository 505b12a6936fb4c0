// The audit trail (SPEC §6): one row per security event.
import type { PrismaClient } from './database.js'

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

export function auditStore(prisma: PrismaClient) {
  return {
    async record(e: AuditEntry): Promise<void> {
      await prisma.auditEvent.create({
        data: {
          type: e.type,
          actorId: e.actorId ?? null,
          subjectId: e.subjectId ?? null,
          clientId: e.clientId ?? null,
          ip: e.ip ?? null,
          userAgent: e.userAgent ?? null,
          details: (e.details ?? undefined) as object | undefined,
          ...(e.at ? { at: e.at } : {}),
        },
      })
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
