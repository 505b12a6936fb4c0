// `tessera users create|list|disable|enable|unlock`: accounts through the same services as sign-up
// (POST /users) and the admin API (/admin/users).
import { createAccount, userView } from '../../accounts/accounts.js'
import { type AdminUser, changeUser, findUserByEmail, listUsers, type UserChange } from '../../accounts/admin.js'
import type { Role } from '../../stores/users.js'
import { bool, type Runner, str } from '../command.js'
import { clean, date, fields, table } from '../output.js'

export const createUser: Runner = async ({ stores, audit, stdin }, flags) => {
  // Presence and --role's choices were checked with the flags; the service validates the rest.
  // As `docker login --password-stdin`: `printf '%s\n' "$PW" | tessera users create …` works too.
  const password = bool(flags, 'password-stdin') ? (await stdin()).replace(/\r?\n$/, '') : str(flags, 'password')!
  const user = await createAccount(stores.users, {
    email: str(flags, 'email')!,
    password,
    name: str(flags, 'name'),
    role: (str(flags, 'role') ?? 'user') as Role,
  })
  // An admin action is an audit row. The operator is no Tessera user: no actor id.
  await audit.record({ type: 'user.created', subjectId: user.id, details: { via: 'cli', role: user.role } })
  const text = [
    `Created user ${clean(user.email)}`,
    fields([
      ['id', user.id],
      ['email', clean(user.email)],
      ['name', user.name === null ? '-' : clean(user.name)],
      ['role', user.role],
      ['created', date(user.createdAt)],
    ]),
  ].join('\n')
  return { json: userView(user), text }
}

/** The operator acts: no Tessera user, no request. */
const OPERATOR = { userId: null, meta: { ip: null, userAgent: null }, via: 'cli' } as const

const state = (u: AdminUser, now: number) => (u.disabled ? 'disabled' : u.locked_until && Date.parse(u.locked_until) > now ? 'locked' : 'active')

export const listAllUsers: Runner = async ({ stores, clock }, flags) => {
  // Every page: an operator's listing is the whole table (or one address).
  const items: AdminUser[] = []
  let cursor: string | undefined
  do {
    const p = await listUsers({ users: stores.users, lockouts: stores.lockouts, clock }, { email: str(flags, 'email'), cursor, limit: 200 })
    items.push(...p.items)
    cursor = p.next_cursor ?? undefined
  } while (cursor)
  const now = clock.now()
  const text =
    items.length === 0
      ? 'No users. Create one with `tessera users create`.'
      : table(
          ['ID', 'EMAIL', 'NAME', 'ROLE', 'STATE', 'CREATED'],
          items.map((u) => [u.id, clean(u.email), u.name === null ? '-' : clean(u.name), u.role, state(u, now), date(new Date(u.created_at))]),
        )
  return { json: items, text }
}

/** `users disable|enable|unlock EMAIL`: the same change as PATCH /admin/users/{id}. */
const change =
  (what: UserChange, done: string): Runner =>
  async ({ stores, audit, clock }, flags) => {
    const user = await findUserByEmail({ users: stores.users }, str(flags, '_')!)
    const after = await changeUser(
      { users: stores.users, families: stores.families, lockouts: stores.lockouts, sessions: stores.browserSessions, audit, clock },
      user.id,
      what,
      OPERATOR,
    )
    return { json: after, text: `${done} ${clean(after.email)}.` }
  }

export const disableUser = change({ disabled: true }, 'Disabled (and signed out of every session)')
export const enableUser = change({ disabled: false }, 'Enabled')
export const unlockUser = change({ locked: false }, 'Unlocked')
