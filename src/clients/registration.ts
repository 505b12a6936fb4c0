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
  /** Exact strings, each https, http on loopback, or a native app's private-use scheme. */
  redirectUris?: string[]
  postLogoutRedirectUris?: string[]
  /** No consent page. A client registered for the password grant is first-party whatever this says. */
  firstParty?: boolean
  /** Seconds (0 to 300) the previous refresh token may be retried; absent or null: the default. */
  reuseLeeway?: number | null | undefined
}

export const MAX_REDIRECT_URIS = 20
export const MAX_REDIRECT_URI_LENGTH = 2000
export const MAX_REUSE_LEEWAY = 300

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost'])

/**
 * Why `uri` cannot be registered as a redirect URI, or undefined if it can. It is kept exactly as
 * given, for /authorize to compare byte for byte (RFC 6749 §3.1.2.3, RFC 9700 §4.1.3).
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length === 0 || uri.length > MAX_REDIRECT_URI_LENGTH) return `must be 1 to ${MAX_REDIRECT_URI_LENGTH} characters`
  // The URL parser would drop surrounding blanks and tabs silently: the stored string would not be the URL.
  if (/[\u0000-\u0020\u007f]/.test(uri)) return 'may not contain spaces or control characters'
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return 'must be an absolute URL'
  }
  // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component" (an empty one neither).
  if (uri.includes('#')) return 'may not have a fragment'
  // Credentials in a redirect URI would travel with every code; `https://@host` has empty ones.
  if (url.username || url.password || /^[^:]+:\/\/[^/?]*@/.test(uri)) return 'may not have a user name or password'
  if (url.protocol === 'https:') return undefined
  // RFC 8252 §7.3 and §8.3: plain http only for a native app's loopback listener.
  if (url.protocol === 'http:') return LOOPBACK.has(url.hostname) ? undefined : 'must be https (http only on 127.0.0.1, [::1] or localhost)'
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name, so it holds a dot (com.example.app:/cb).
  if (url.protocol.slice(0, -1).includes('.')) return undefined
  return 'must be https, http on loopback, or a private-use scheme with a dot (com.example.app:/callback)'
}

function redirectUris(uris: string[] | undefined, what: string): string[] {
  const unique = [...new Set(uris ?? [])]
  if (unique.length > MAX_REDIRECT_URIS) throw new InvalidRequest(`A client may have at most ${MAX_REDIRECT_URIS} ${what}s.`)
  for (const uri of unique) {
    const problem = redirectUriProblem(uri)
    // The URI is echoed only as far as is useful, and as JSON (quotes and controls escaped).
    if (problem) throw new InvalidRequest(`The ${what} ${JSON.stringify(uri.slice(0, 200))} ${problem}.`)
  }
  return unique
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
  const redirect = redirectUris(r.redirectUris, 'redirect URI')
  const postLogout = redirectUris(r.postLogoutRedirectUris, 'post-logout redirect URI')
  // RFC 6749 §3.1.2.2: a client using the authorization endpoint registers where the code may go.
  if (grantTypes.includes('authorization_code') && redirect.length === 0) {
    throw new InvalidRequest('A client with the authorization_code grant needs at least one redirect URI.')
  }
  const reuseLeeway = r.reuseLeeway ?? null
  if (reuseLeeway !== null && !(Number.isInteger(reuseLeeway) && reuseLeeway >= 0 && reuseLeeway <= MAX_REUSE_LEEWAY)) {
    throw new InvalidRequest(`The reuse leeway must be a whole number of seconds from 0 to ${MAX_REUSE_LEEWAY}.`)
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
    redirectUris: redirect,
    postLogoutRedirectUris: postLogout,
    // docs/pages.md#consent: the password grant is for first-party clients only, so registering for it says so.
    firstParty: (r.firstParty ?? false) || grantTypes.includes('password'),
    reuseLeeway,
  })
  return secret ? { client, secret } : { client }
}
