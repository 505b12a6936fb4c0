// Schemas of the OAuth endpoints (RFC 6749 §5.1, RFC 7009 §2.1, RFC 7662 §2): what they read and
// what they answer. Response schemas serialise fast and drop anything not declared. Requests
// are forms or JSON objects of strings; unknown parameters are ignored (RFC 6749 §3.1).

import Type from 'typebox'
import { AuthorizationCodeParams } from '../oauth/grants/authorization_code.js'
import { ClientCredentialsParams } from '../oauth/grants/client_credentials.js'
import { PasswordParams } from '../oauth/grants/password.js'
import { RefreshTokenParams } from '../oauth/grants/refresh_token.js'
import { TokenParam } from '../oauth/params.js'

/** client_secret_post and none (RFC 6749 §2.3.1); client_secret_basic uses the Authorization header instead. */
const ClientAuthParams = Type.Object({
  client_id: Type.Optional(Type.String({ maxLength: 256 })),
  client_secret: Type.Optional(Type.String({ maxLength: 256 })),
})

/** POST /token: grant_type, client authentication, and every parameter some grant reads (each grant checks its own). */
export const TokenRequest = Type.Object(
  {
    grant_type: Type.String({ maxLength: 128, description: 'authorization_code, password, refresh_token or client_credentials.' }),
    ...ClientAuthParams.properties,
    ...Type.Partial(AuthorizationCodeParams).properties,
    ...Type.Partial(PasswordParams).properties,
    ...Type.Partial(RefreshTokenParams).properties,
    ...Type.Partial(ClientCredentialsParams).properties,
  },
  { additionalProperties: true },
)

export const RevokeRequest = Type.Object(
  {
    // Optional: a browser client revokes the refresh token in its cookie.
    token: Type.Optional(TokenParam),
    token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: 'access_token or refresh_token; Tessera tells them apart itself.' })),
    ...ClientAuthParams.properties,
  },
  { additionalProperties: true },
)

export const IntrospectRequest = Type.Object(
  {
    token: TokenParam,
    token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
    ...ClientAuthParams.properties,
  },
  { additionalProperties: true },
)

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.Optional(Type.String()),
  scope: Type.String(),
  id_token: Type.Optional(Type.String({ description: 'OpenID Connect ID token, when the scope holds openid.' })),
})

export const IntrospectionResponse = Type.Object({
  active: Type.Boolean(),
  token_type: Type.Optional(Type.String()),
  token_use: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  sub: Type.Optional(Type.String()),
  aud: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  iss: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  jti: Type.Optional(Type.String()),
  sid: Type.Optional(Type.String()),
  roles: Type.Optional(Type.Array(Type.String())),
})

/** GET /revocations (docs/endpoints.md#get-revocations): `since` is a cursor the feed gave. */
export const RevocationsQuery = Type.Object(
  { since: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'The `cursor` of an earlier answer: only what was revoked after it.' })) },
  { additionalProperties: false },
)

/** The revocation feed (docs/tokens.md#revocation-feed): each entry listed until every access token it affects has expired (`exp`, seconds since epoch). */
export const RevocationFeed = Type.Object({
  sids: Type.Array(Type.Object({ sid: Type.String(), exp: Type.Integer() }), {
    description: 'Revoked refresh families: refuse access tokens whose `sid` is one of these.',
  }),
  jtis: Type.Array(Type.Object({ jti: Type.String(), exp: Type.Integer() }), {
    description: 'Revoked access tokens: refuse those whose `jti` is one of these.',
  }),
  cursor: Type.String({ description: 'Pass it as `since` next time.' }),
})

/** GET /revocations answers 304, with no body, when If-None-Match names the feed's current ETag. */
export const FeedNotModified = Type.Unsafe<undefined>({ description: 'Nothing was revoked since the ETag given in If-None-Match.' })
