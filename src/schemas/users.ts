// Account schemas: sign-up input and the views of an account shown to its owner.
import Type from 'typebox'

export const SignUpBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    // Characters (code points), not bytes; argon2 takes any length, the cap bounds the work.
    password: Type.String({ minLength: 8, maxLength: 256 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
)

/** An account as its owner and admins see it: never the password hash. */
export const UserView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  role: Type.String(),
  created_at: Type.String(),
})

/** /me and /userinfo: the account, and `sub` as OpenID Connect names the subject. */
export const ProfileView = Type.Object({ sub: Type.String(), ...UserView.properties })

/** /userinfo for a token with `openid` (OpenID Connect Core §5.3): the claims its scope allows. */
export const UserInfo = Type.Object(
  {
    sub: Type.String(),
    email: Type.Optional(Type.String()),
    email_verified: Type.Optional(Type.Boolean()),
    name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  },
  { additionalProperties: false },
)

/** PATCH /me: the fields an owner may change; anything else is refused, never applied. */
export const ProfilePatch = Type.Object(
  { name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()], { description: 'null clears it.' })) },
  { additionalProperties: false, minProperties: 1 },
)

export const PublicUserView = Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) })

export const PasswordChangeBody = Type.Object(
  { current_password: Type.String({ minLength: 1, maxLength: 1024 }), new_password: Type.String({ minLength: 8, maxLength: 256 }) },
  { additionalProperties: false },
)

export const ForgotBody = Type.Object({ email: Type.String({ minLength: 3, maxLength: 320 }) }, { additionalProperties: false })

export const ResetBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 8, maxLength: 256 }) },
  { additionalProperties: false },
)

export const SessionView = Type.Object({
  id: Type.String(),
  client_id: Type.String(),
  created_at: Type.String(),
  last_used_at: Type.String(),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: 'The session of the token this request carries.' }),
})
