// Admin views of the signing keys: public facts only, never the sealed private part.
import Type from 'typebox'

export const KeyView = Type.Object({
  kid: Type.String(),
  alg: Type.String(),
  state: Type.String(),
  created_at: Type.String(),
  published_at: Type.String(),
  activated_at: Type.Union([Type.String(), Type.Null()]),
  retiring_at: Type.Union([Type.String(), Type.Null()]),
  retired_at: Type.Union([Type.String(), Type.Null()]),
})

export const RotateBody = Type.Object({ now: Type.Optional(Type.Boolean()) }, { additionalProperties: false })

export const RotationView = Type.Object({
  active: Type.String(),
  previous: Type.Union([Type.String(), Type.Null()]),
  emergency: Type.Boolean(),
  next: Type.String(),
})

export const KidParams = Type.Object({ kid: Type.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }) })

export const RetiredView = Type.Object({ kid: Type.String(), state: Type.Union([Type.Literal('retired'), Type.Literal('deleted')]) })
