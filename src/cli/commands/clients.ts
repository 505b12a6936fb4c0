// `tessera clients create|list|delete`: OAuth clients through the same service as the admin API;
// a secret is shown once.
import { deleteClient, createClient as register } from '../../clients/admin.js'
import { clientView } from '../../clients/view.js'
import type { Config } from '../../config/index.js'
import { reuseLeewayOf } from '../../oauth/grants/refresh_token.js'
import type { Client } from '../../stores/clients.js'
import { bool, type Flags, list, type Runner, str, UsageError } from '../command.js'
import { clean, date, fields, table } from '../output.js'

const kind = (c: Client) => (c.public ? 'public' : 'confidential')
const words = (xs: string[]) => (xs.length ? xs.map(clean).join(' ') : '-')
const leeway = (c: Client, config: Config) => (c.reuseLeeway === null ? `${reuseLeewayOf(c, config)}s (default)` : `${c.reuseLeeway}s`)

const UNIT: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }

/** --reuse-leeway: a duration as the configuration writes one (`10s`, `1m`, `0`), in seconds. */
function seconds(flags: Flags, name: string): number | undefined {
  const value = str(flags, name)
  if (value === undefined) return undefined
  const m = /^([0-9]{1,6})(ms|s|m|h|d)?$/.exec(value)
  if (!m) throw new UsageError(`clients create: --${name} must be a duration: seconds, or a number with ms, s, m, h or d (10s, 0)`)
  return Number(m[1]) * UNIT[m[2] ?? 's']!
}

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
      firstParty: bool(flags, 'first-party'),
      redirectUris: list(flags, 'redirect-uri'),
      postLogoutRedirectUris: list(flags, 'post-logout-redirect-uri'),
      reuseLeeway: seconds(flags, 'reuse-leeway'),
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
      ['first_party', client.firstParty ? 'yes' : 'no'],
      ['redirect_uris', words(client.redirectUris)],
      ['post_logout', words(client.postLogoutRedirectUris)],
      ['reuse_leeway', leeway(client, config)],
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
