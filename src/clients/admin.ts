// What an admin does to clients, for the admin API and the CLI alike (docs/endpoints.md#admin-clients):
// register one (its secret shown once), list them, find one, delete one with every session it had.
import type { Actor } from '../accounts/admin.js'
import type { AuditTrail } from '../audit/trail.js'
import type { Clock } from '../lib/clock.js'
import { creationCursor, page } from '../lib/cursor.js'
import { NotFound } from '../oauth/errors.js'
import type { Client, ClientStore } from '../stores/clients.js'
import type { FamilyStore } from '../stores/families.js'
import { type ClientRegistration, type RegisteredClient, registerClient } from './registration.js'
import { clientView } from './view.js'

export interface AdminClientDeps {
  clients: Pick<ClientStore, 'create' | 'list' | 'findById' | 'delete'>
  families: Pick<FamilyStore, 'revokeAllOfClient'>
  audit: AuditTrail
  clock: Clock
}

export async function createClient(deps: AdminClientDeps, r: ClientRegistration, policy: { issuer: string }, actor: Actor): Promise<RegisteredClient> {
  const registered = await registerClient(deps.clients, r, policy)
  const { client } = registered
  await deps.audit.record({
    type: 'client.created',
    actorId: actor.userId,
    clientId: client.id,
    ...actor.meta,
    details: { via: actor.via, public: client.public },
  })
  return registered
}

export async function listClients(deps: Pick<AdminClientDeps, 'clients'>, q: { cursor?: string | undefined; limit: number }) {
  const after = q.cursor === undefined ? undefined : creationCursor('clients', q.cursor)
  const p = page(await deps.clients.list({ after, limit: q.limit + 1 }), q.limit, (c) => ['clients', c.createdAt.toISOString(), c.id])
  return { items: p.items.map(clientView), next_cursor: p.next_cursor }
}

export async function findClient(deps: Pick<AdminClientDeps, 'clients'>, id: string): Promise<Client> {
  // Postgres text cannot hold NUL: such an id names no client.
  const client = id.length <= 256 && !id.includes('\u0000') ? await deps.clients.findById(id) : null
  if (!client) throw new NotFound('No such client.')
  return client
}

/** Deletes a client: every family it had is revoked first (and then deleted with it), so its tokens die. */
export async function deleteClient(deps: AdminClientDeps, id: string, actor: Actor): Promise<{ revokedFamilies: number }> {
  const client = await findClient(deps, id)
  const revokedFamilies = await deps.families.revokeAllOfClient(client.id, 'client_deleted', new Date(deps.clock.now()))
  await deps.clients.delete(client.id)
  await deps.audit.record({
    type: 'client.deleted',
    actorId: actor.userId,
    clientId: client.id,
    ...actor.meta,
    details: { via: actor.via, revoked_families: revokedFamilies },
  })
  return { revokedFamilies }
}
