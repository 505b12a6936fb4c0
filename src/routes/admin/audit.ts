// /admin/audit-events (docs/endpoints.md#audit-events): the audit trail, newest first, filtered.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { listEvents } from '../../audit/query.js'
import { AuditEventView, AuditQuery, limitOf, page } from '../../schemas/admin.js'
import { withErrors } from '../../schemas/errors.js'

const audit: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/audit-events',
    { schema: { security: [{ bearer: [] }], querystring: AuditQuery, response: withErrors({ 200: page(AuditEventView) }) } },
    async (req) => {
      const q = req.query
      return listEvents(app.stores, {
        type: q.type,
        userId: q.user,
        clientId: q.client,
        since: q.since === undefined ? undefined : new Date(q.since),
        until: q.until === undefined ? undefined : new Date(q.until),
        cursor: q.cursor,
        limit: limitOf(q),
      })
    },
  )
}

export default audit
