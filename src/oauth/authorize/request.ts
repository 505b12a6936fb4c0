// An authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core §3.1.2.1),
// checked in the order the RFCs ask: first the client and its redirect URI, which decide
// whether an error may be sent back by redirect at all (RFC 6749 §4.1.2.1), then the rest.
import type { Client, ClientStore } from '../../stores/clients.js'
import { OAuthError } from '../errors.js'
import { grantScope, parseScope } from '../scopes.js'

export interface AuthorizationRequest {
  client: Client
  redirectUri: string
  scope: string[]
  state: string | undefined
  codeChallenge: string
  nonce: string | undefined
  prompt: Set<string>
  loginHint: string | undefined
}

/** The client or its redirect URI is wrong: an error page, never a redirect (RFC 6749 §4.1.2.1). */
export class AuthorizeTargetError extends Error {
  override name = 'AuthorizeTargetError'
}

/** Any later error: sent back to the client's redirect URI with `state` and `iss` (RFC 9207). */
export class AuthorizeRedirectError extends OAuthError {
  constructor(
    error: string,
    description: string,
    readonly redirectUri: string,
    readonly state: string | undefined,
  ) {
    super(error, 302, description)
  }
}

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters, with no padding. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
const PROMPTS = new Set(['none', 'login', 'consent', 'select_account'])

/** One string per parameter, or why not. Repeated parameters are an error (RFC 6749 §3.1). */
function single(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name]
  if (v === undefined || v === '') return undefined
  if (typeof v !== 'string') throw new AuthorizeTargetError(`The parameter ${name} was sent more than once.`)
  if (v.includes('\u0000') || v.length > 2048) throw new AuthorizeTargetError(`The parameter ${name} is not valid.`)
  return v
}

export async function parseAuthorizationRequest(clients: Pick<ClientStore, 'findById'>, query: Record<string, unknown>): Promise<AuthorizationRequest> {
  const clientId = single(query, 'client_id')
  if (!clientId) throw new AuthorizeTargetError('The request names no client (client_id is missing).')
  const client = clientId.length <= 200 ? await clients.findById(clientId) : null
  if (!client) throw new AuthorizeTargetError('The application that sent you here is not registered with this server.')
  const redirectUri = single(query, 'redirect_uri')
  if (!redirectUri) throw new AuthorizeTargetError('The request names no redirect_uri.')
  // Exact string comparison with a registered URI (RFC 9700 §4.1.3): no prefix, no pattern.
  if (!client.redirectUris.includes(redirectUri)) throw new AuthorizeTargetError('The redirect_uri is not one registered for this application.')

  // From here on, errors go back to the client.
  let state: string | undefined
  try {
    state = single(query, 'state')
  } catch {
    throw new AuthorizeRedirectError('invalid_request', 'The parameter state was sent more than once.', redirectUri, undefined)
  }
  const fail = (error: string, description: string) => new AuthorizeRedirectError(error, description, redirectUri, state)
  const param = (name: string) => {
    try {
      return single(query, name)
    } catch (err) {
      throw fail('invalid_request', (err as Error).message)
    }
  }
  for (const name of ['request', 'request_uri']) if (param(name)) throw fail(`${name}_not_supported`, `The ${name} parameter is not supported.`)
  const responseType = param('response_type')
  if (!responseType) throw fail('invalid_request', 'response_type is required.')
  if (responseType !== 'code') throw fail('unsupported_response_type', 'Only response_type=code is supported.')
  const responseMode = param('response_mode')
  if (responseMode && responseMode !== 'query') throw fail('invalid_request', 'Only response_mode=query is supported.')
  if (!client.grantTypes.includes('authorization_code')) throw fail('unauthorized_client', 'This application may not use the authorization code flow.')

  const challenge = param('code_challenge')
  const method = param('code_challenge_method')
  if (!challenge) throw fail('invalid_request', 'code_challenge is required (PKCE, RFC 7636), with code_challenge_method=S256.')
  if (method !== 'S256') throw fail('invalid_request', 'code_challenge_method must be S256.')
  if (!S256_CHALLENGE.test(challenge)) throw fail('invalid_request', 'code_challenge is not a base64url SHA-256 (43 characters).')

  let scope: string[]
  try {
    scope = grantScope(parseScope(param('scope')), client.scopes)
  } catch (err) {
    throw fail(err instanceof OAuthError ? err.error : 'invalid_scope', (err as Error).message)
  }
  const prompt = new Set((param('prompt') ?? '').split(' ').filter(Boolean))
  for (const p of prompt) if (!PROMPTS.has(p)) throw fail('invalid_request', `Unknown prompt value: ${p.slice(0, 40)}.`)
  if (prompt.has('none') && prompt.size > 1) throw fail('invalid_request', 'prompt=none cannot be combined with other values.')
  const nonce = param('nonce')
  if (nonce && nonce.length > 512) throw fail('invalid_request', 'nonce is too long.')
  return { client, redirectUri, scope, state, codeChallenge: challenge, nonce, prompt, loginHint: param('login_hint') }
}

/** The redirect back to the client: its URI's own query kept, the answer's parameters added, `iss` always (RFC 9207). */
export function redirectBack(redirectUri: string, issuer: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v)
  url.searchParams.set('iss', issuer)
  return url.toString()
}
