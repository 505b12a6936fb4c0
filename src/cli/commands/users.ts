// `tessera users create`: an account through the same service as sign-up (POST /users).
import { createAccount, userView } from '../../accounts/accounts.js'
import type { Role } from '../../stores/users.js'
import { bool, type Runner, str } from '../command.js'
import { clean, date, fields } from '../output.js'

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
