// `tessera clients create|list|delete`: OAuth clients through the same service as the admin API;
// a secret is shown once.
import { deleteClient, createClient as register } from '../../clients/admin.js'
import { clientView } from '../../clients/view.js'
import type { Client } from '../../stores/clients.js'
import { bool, list, type Runner, str } from '../command.js'
import { clean, date, fields, table } from '../output.js'

const kind = (c: Client) => (c.public ? 'public' : 'confidential')
const words = (xs: string[]) => (xs.length ? xs.map(clean).join(' ') : '-')

/** The operator acts: no Tessera user, no request. */
const OPERATOR = { userId: null, meta: { ip: null, userAgent: null }, via: 'cli' } as const

export const createClient: Runner = async ({ stores, audit, clock, config }, flags) => {
  // Grants, scopes and the public/client_credentials rule are the service's to check.
  const { client, secret } = await register(
    { clients: stores.clients, families: stores.families, audit, clock },
    {
      name: str(flags, 'name')!,
      grantTypes: list(flags, 'grant'),
      scopes: list(flags, 'scope'),
      audience: str(flags, 'audience'),
      public: bool(flags, 'public'),
      cookieDelivery: bool(flags, 'cookie'),
    },
    { issuer: config.issuer },
    OPERATOR,
  )
  const text = [
    `Created ${kind(client)} client "${clean(client.name)}"`,
    fields([
      ['client_id', client.id],
      ['client_secret', secret ?? '- (public client)'],
      ['grant_types', words(client.grantTypes)],
      ['scopes', words(client.scopes)],
      ['audience', client.audience === null ? `${clean(config.defaultAudience)} (default)` : clean(client.audience)],
      ['cookie', client.cookieDelivery ? 'yes' : 'no'],
      ['created', date(client.createdAt)],
    ]),
    ...(secret ? ['', 'The secret is shown only this once and stored only as a SHA-256 hash: keep it now.'] : []),
  ].join('\n')
  return { json: { ...clientView(client), ...(secret ? { client_secret: secret } : {}) }, text }
}

export const listClients: Runner = async ({ stores, config }) => {
  const clients = await stores.clients.list()
  const text =
    clients.length === 0
      ? 'No clients. Register one with `tessera clients create`.'
      : table(
          ['CLIENT_ID', 'NAME', 'TYPE', 'GRANTS', 'SCOPES', 'AUDIENCE', 'COOKIE', 'CREATED'],
          clients.map((c) => [
            c.id,
            clean(c.name),
            kind(c),
            words(c.grantTypes),
            words(c.scopes),
            c.audience === null ? `${clean(config.defaultAudience)} (default)` : clean(c.audience),
            c.cookieDelivery ? 'yes' : 'no',
            date(c.createdAt),
          ]),
        )
  return { json: clients.map(clientView), text }
}

export const removeClient: Runner = async ({ stores, audit, clock }, flags) => {
  const id = str(flags, '_')!
  const { revokedFamilies } = await deleteClient({ clients: stores.clients, families: stores.families, audit, clock }, id, OPERATOR)
  return {
    json: { client_id: id, revoked_families: revokedFamilies },
    text: `Deleted client ${clean(id)}; ${revokedFamilies} session${revokedFamilies === 1 ? '' : 's'} signed out.`,
  }
}
