// Client authentication at /token, /revoke and /introspect (RFC 6749 §2.3):
// client_secret_basic, client_secret_post, or none for public clients.
import { safeEqual, sha256 } from '../lib/secrets.js'
import type { Client, ClientStore } from '../stores/clients.js'
import { InvalidClient, InvalidRequest } from './errors.js'

/** The client authentication methods of RFC 6749 §2.3 that Tessera accepts (the metadata lists them). */
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const
export type AuthMethod = (typeof AUTH_METHODS)[number]

export interface AuthenticatedClient {
  client: Client
  method: AuthMethod
}

// Compared against when the client is unknown, so that "no such client" and "wrong secret"
// cost the same (the secret is still hashed and compared).
const DUMMY_HASH = sha256('tessera-no-such-client')

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function parseBasic(header: string): { id: string; secret: string } {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim())
  if (!match) throw new InvalidClient('The Authorization header is not valid Basic credentials.')
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) throw new InvalidClient('The Authorization header is not valid Basic credentials.')
  try {
    const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
    const id = unform(decoded.slice(0, colon))
    const secret = unform(decoded.slice(colon + 1))
    if (id.includes('\u0000') || secret.includes('\u0000')) throw new InvalidClient('The Authorization header is not valid Basic credentials.')
    return { id, secret }
  } catch {
    throw new InvalidClient('The Authorization header is not valid Basic credentials.')
  }
}

export async function authenticateClient(
  clients: Pick<ClientStore, 'findById'>,
  authorization: string | undefined,
  params: { client_id?: string | undefined; client_secret?: string | undefined },
): Promise<AuthenticatedClient> {
  let id: string | undefined
  let secret: string | undefined
  let method: AuthMethod
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    // §2.3: a client MUST NOT use more than one authentication method in a request.
    if (params.client_secret !== undefined) throw new InvalidRequest('Use one client authentication method, not two.')
    ;({ id, secret } = parseBasic(authorization))
    if (params.client_id !== undefined && params.client_id !== id) throw new InvalidRequest('client_id does not match the Authorization header.')
    method = 'client_secret_basic'
  } else if (params.client_secret !== undefined) {
    id = params.client_id
    secret = params.client_secret
    method = 'client_secret_post'
  } else {
    id = params.client_id
    method = 'none'
  }
  if (!id) throw new InvalidClient('Client authentication is required.')
  if (id.length > 256) throw new InvalidClient()

  const client = await clients.findById(id)
  if (method === 'none') {
    if (!client) throw new InvalidClient()
    if (!client.public) throw new InvalidClient('This client must authenticate with its secret.')
    return { client, method }
  }
  const presented = sha256(secret ?? '')
  const ok = safeEqual(presented, client?.secretHash ?? DUMMY_HASH)
  if (!client || !ok || client.public) throw new InvalidClient()
  return { client, method }
}
