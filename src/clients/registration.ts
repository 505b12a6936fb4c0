// Registering OAuth clients, shared by the CLI and the admin API.
import { randomBytes } from 'node:crypto'
import { randomSecret, sha256 } from '../lib/secrets.js'
import { InvalidRequest } from '../oauth/errors.js'
import { GRANT_TYPES } from '../oauth/grants/index.js'
import { parseScope } from '../oauth/scopes.js'
import type { Client, ClientStore } from '../stores/clients.js'

export interface ClientRegistration {
  name: string
  grantTypes: string[]
  scopes?: string[]
  audience?: string | undefined
  public?: boolean
  cookieDelivery?: boolean
}

export interface RegisteredClient {
  client: Client
  /** Shown once; only its SHA-256 is stored. Absent for public clients. */
  secret?: string
}

/**
 * Validates and stores a client. `issuer` is needed to refuse it as an audience: refresh
 * tokens carry the issuer as their `aud`, so an API with that audience would accept them.
 */
export async function registerClient(clients: Pick<ClientStore, 'create'>, r: ClientRegistration, policy: { issuer: string }): Promise<RegisteredClient> {
  if (r.name.includes('\u0000') || r.audience?.includes('\u0000')) throw new InvalidRequest('Name and audience may not contain NUL characters.')
  const name = r.name.trim()
  if (!name || name.length > 200) throw new InvalidRequest('A client needs a name of 1 to 200 characters.')
  const grantTypes = [...new Set(r.grantTypes)]
  if (grantTypes.length === 0) throw new InvalidRequest(`A client needs at least one grant: ${GRANT_TYPES.join(', ')}.`)
  const unknown = grantTypes.filter((g) => !(GRANT_TYPES as readonly string[]).includes(g))
  if (unknown.length) throw new InvalidRequest(`Unknown grant type: ${unknown.join(', ')} (known: ${GRANT_TYPES.join(', ')}).`)
  const isPublic = r.public ?? false
  // RFC 6749 §4.4: client_credentials needs a client that can keep a secret.
  if (isPublic && grantTypes.includes('client_credentials')) throw new InvalidRequest('A public client cannot use client_credentials.')
  const scopes = r.scopes?.length ? (parseScope(r.scopes.join(' ')) ?? []) : []
  const audience = r.audience?.trim()
  if (audience !== undefined && (audience === '' || audience.length > 512)) throw new InvalidRequest('The audience must be 1 to 512 characters.')
  if (audience !== undefined && audience.replace(/\/+$/, '') === policy.issuer) {
    throw new InvalidRequest("The audience cannot be the issuer: that is the refresh token's audience, so resource servers would accept refresh tokens.")
  }
  const secret = isPublic ? undefined : randomSecret(32)
  const client = await clients.create({
    id: randomBytes(16).toString('base64url'),
    name,
    secretHash: secret ? sha256(secret) : null,
    public: isPublic,
    cookieDelivery: r.cookieDelivery ?? false,
    grantTypes,
    scopes,
    audience: audience ?? null,
  })
  return secret ? { client, secret } : { client }
}
