// Schemas of the admin API (docs/endpoints.md#admin-api): queries, bodies and views.
import Type, { type TSchema } from 'typebox'
import { UserView } from './users.js'

const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

/** Query strings arrive as text (the API does not coerce types), so numbers and booleans are patterns here. */
const Limit = Type.String({ pattern: '^(?:[1-9][0-9]?|1[0-9]{2}|200)$', description: '1 to 200 (default 50).' })
const Cursor = Type.String({ minLength: 1, maxLength: 512, description: 'next_cursor of the previous page.' })
const Bool = Type.Union([Type.Literal('true'), Type.Literal('false')])

export const limitOf = (q: { limit?: string | undefined }) => (q.limit === undefined ? 50 : Number(q.limit))

export const page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: nullable(Type.String({ description: 'Pass as ?cursor= for the next page; null on the last.' })) })

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) })

export const UserQuery = Type.Object(
  {
    email: Type.Optional(Type.String({ maxLength: 320, description: 'Exact match, case-insensitive.' })),
    role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
    disabled: Type.Optional(Bool),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
)

export const AdminUserView = Type.Object({
  ...UserView.properties,
  disabled: Type.Boolean(),
  disabled_at: nullable(Type.String()),
  locked_until: nullable(Type.String()),
  failed_logins: Type.Integer(),
})

export const UserPatch = Type.Object(
  {
    disabled: Type.Optional(Type.Boolean({ description: 'true signs the user out of every session.' })),
    role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
    locked: Type.Optional(Type.Literal(false, { description: 'false clears a lockout; nothing else is accepted.' })),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const PageQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false })

export const ClientView = Type.Object({
  client_id: Type.String(),
  name: Type.String(),
  public: Type.Boolean(),
  cookie_delivery: Type.Boolean(),
  grant_types: Type.Array(Type.String()),
  scopes: Type.Array(Type.String()),
  audience: nullable(Type.String()),
  redirect_uris: Type.Array(Type.String()),
  post_logout_redirect_uris: Type.Array(Type.String()),
  first_party: Type.Boolean(),
  reuse_leeway: nullable(Type.Integer({ description: 'Seconds; null: the default (10 for cookie delivery, else REFRESH_REUSE_LEEWAY).' })),
  created_at: Type.String(),
})

export const CreatedClientView = Type.Object({
  ...ClientView.properties,
  client_secret: Type.Optional(Type.String({ description: 'Shown this once; only its SHA-256 is stored.' })),
})

/** What `tessera clients create` takes. */
export const ClientCreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    grant_types: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 8 }),
    scopes: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 64 })),
    audience: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    public: Type.Optional(Type.Boolean()),
    cookie_delivery: Type.Optional(Type.Boolean()),
    redirect_uris: Type.Optional(
      Type.Array(Type.String({ maxLength: 2000 }), {
        maxItems: 20,
        description: 'Exact strings: https, http on loopback, or a private-use scheme (com.example.app:/cb); no fragment, no userinfo.',
      }),
    ),
    post_logout_redirect_uris: Type.Optional(Type.Array(Type.String({ maxLength: 2000 }), { maxItems: 20, description: 'The same rules.' })),
    first_party: Type.Optional(Type.Boolean({ description: 'No consent page; always true with the password grant.' })),
    reuse_leeway: Type.Optional(
      nullable(Type.Integer({ minimum: 0, maximum: 300, description: 'Seconds; absent or null: 10 for cookie delivery, else REFRESH_REUSE_LEEWAY.' })),
    ),
  },
  { additionalProperties: false },
)

export const ClientDeleted = Type.Object({ client_id: Type.String(), revoked_families: Type.Integer() })

export const AuditQuery = Type.Object(
  {
    type: Type.Optional(Type.String({ maxLength: 64 })),
    user: Type.Optional(Type.String({ maxLength: 64, description: 'A user id: events about them or done by them.' })),
    client: Type.Optional(Type.String({ maxLength: 256 })),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
)

export const AuditEventView = Type.Object({
  id: Type.String(),
  at: Type.String(),
  type: Type.String(),
  actor_id: nullable(Type.String()),
  subject_id: nullable(Type.String()),
  client_id: nullable(Type.String()),
  ip: nullable(Type.String()),
  user_agent: nullable(Type.String()),
  details: Type.Unknown(),
})
