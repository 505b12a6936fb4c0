// What the OpenAPI document says beyond the shapes (docs/endpoints.md#openapi): who may call a
// route (its security requirement) and the HTML answers of the hosted pages.
import Type from 'typebox'

/** An OpenAPI security requirement: any one of the entries, each a set of schemes (and their scopes). */
type Security = Record<string, string[]>[]

/** An access token in `Authorization: Bearer` (RFC 6750 §2.1): the `bearer` scheme of the document. */
export const bearerAuth: Security = [{ bearer: [] }]

/**
 * Client authentication on /token, /revoke and /introspect (RFC 6749 §2.3.1): HTTP Basic
 * (client_secret_basic); the empty requirement stands for client_secret_post (the credentials in
 * the form) and for a public client, which sends its client_id alone. OpenAPI cannot name those.
 */
export const clientAuth: Security = [{ clientSecretBasic: [] }, {}]

const html = (description: string) => ({ description, content: { 'text/html': { schema: Type.String() } } })

/**
 * A hosted page's schema (docs/pages.md): documentation only. It validates nothing (the pages
 * read their query and forms themselves, and answer a bad one with a page), and the HTML is
 * sent as the string it is, never serialized.
 */
export function page(summary: string, description?: string) {
  return {
    summary,
    ...(description ? { description } : {}),
    response: { 200: html('The page.'), '4xx': html('A page that says what was wrong.'), '5xx': html('A page that says to try again.') },
  }
}

/** The schema parts of /token, /revoke and /introspect: client authentication, and forms (or JSON) in. */
export const clientAuthenticated = { security: clientAuth, consumes: ['application/x-www-form-urlencoded', 'application/json'] }

const str = (description: string) => Type.Optional(Type.String({ description }))

/** GET /authorize's query (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Core §3.1.2.1): shown, read by the route. */
export const AuthorizeQuery = Type.Object({
  response_type: Type.Literal('code'),
  client_id: Type.String(),
  redirect_uri: Type.String({ description: 'One of the client’s registered redirect URIs, exactly.' }),
  scope: str('Space-separated scopes; `openid` for an ID token.'),
  state: str('Returned unchanged with the code.'),
  code_challenge: Type.String({ description: 'BASE64URL(SHA-256(code_verifier)).' }),
  code_challenge_method: Type.Literal('S256'),
  nonce: str('Copied into the ID token.'),
  prompt: Type.Optional(Type.Union([Type.Literal('login'), Type.Literal('consent'), Type.Literal('none')])),
  login_hint: str('An email to fill in on the sign-in page.'),
})

/** GET /logout's query (OpenID RP-Initiated Logout 1.0 §2). */
export const LogoutQuery = Type.Object({
  id_token_hint: str('An ID token this server issued to the client.'),
  post_logout_redirect_uri: str('One of the client’s registered post-logout redirect URIs, exactly.'),
  state: str('Returned unchanged on the redirect.'),
  client_id: str('The client, when no id_token_hint names it.'),
})

/** The pages an /authorize request passes through (sign-in, consent) come back to it. */
export const ReturnToQuery = Type.Object({ return_to: str('The /authorize request to go back to.') })

/** The reset-password page's link. */
export const ResetLinkQuery = Type.Object({ token: str('The token of the emailed link (single use, 1 h).') })
