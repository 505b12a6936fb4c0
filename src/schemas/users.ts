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
