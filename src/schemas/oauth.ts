// Schemas of the OAuth endpoints' answers (RFC 6749 §5.1, RFC 7662 §2.2). Response schemas
// serialise fast and drop anything not declared.
import Type from 'typebox'

export const ErrorBody = Type.Object({
  error: Type.String(),
  error_description: Type.String(),
  details: Type.Optional(Type.Array(Type.Unknown())),
})

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  refresh_token: Type.Optional(Type.String()),
  scope: Type.String(),
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
