// `tessera audit list`: the audit trail, newest first, through the same query as the admin API.
import { findUserByEmail } from '../../accounts/admin.js'
import { listEvents } from '../../audit/query.js'
import { InvalidRequest } from '../../oauth/errors.js'
import { type Runner, str } from '../command.js'
import { clean, table } from '../output.js'

export const listAudit: Runner = async ({ stores }, flags) => {
  const email = str(flags, 'user')
  const since = str(flags, 'since')
  const at = since === undefined ? undefined : new Date(since)
  if (at && Number.isNaN(at.getTime())) throw new InvalidRequest(`--since ${since?.slice(0, 64)} is not a time (try 2026-12-01 or 2026-12-01T10:00:00Z).`)
  const limit = Number(str(flags, 'limit') ?? '100')
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidRequest('--limit must be 1 to 1000.')
  const userId = email === undefined ? undefined : (await findUserByEmail({ users: stores.users }, email)).id
  const { items } = await listEvents(stores, { type: str(flags, 'type'), userId, since: at, limit })
  const text =
    items.length === 0
      ? 'No audit events match.'
      : table(
          ['AT', 'TYPE', 'ACTOR', 'SUBJECT', 'CLIENT', 'IP', 'DETAILS'],
          items.map((e) => [
            e.at.replace(/\.\d{3}Z$/, 'Z'),
            e.type,
            e.actor_id ?? '-',
            e.subject_id ?? '-',
            e.client_id === null ? '-' : clean(e.client_id),
            e.ip ?? '-',
            e.details === null ? '-' : clean(JSON.stringify(e.details)),
          ]),
        )
  return { json: items, text }
}
