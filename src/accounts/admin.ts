// What an admin does to accounts, for the admin API and the CLI alike (docs/endpoints.md#admin-users):
// list and find them, disable and enable them (disabling signs out every session), change a
// role (it shows in the next token), and clear a lockout. Each change is an audit row.
import type { AuditTrail, RequestMeta } from '../audit/trail.js'
import type { Clock } from '../lib/clock.js'
import { creationCursor, page } from '../lib/cursor.js'
import { isUuid } from '../lib/ids.js'
import { Conflict, NotFound } from '../oauth/errors.js'
import type { BrowserSessionStore } from '../stores/browser-sessions.js'
import type { FamilyStore } from '../stores/families.js'
import { type LockoutStore, lockoutKey } from '../stores/lockouts.js'
import type { Role, User, UserStore } from '../stores/users.js'
import { adminUserView, parseEmail } from './accounts.js'

export interface AdminUserDeps {
  users: Pick<UserStore, 'list' | 'findById' | 'findByEmail' | 'setDisabled' | 'setRole'>
  families: Pick<FamilyStore, 'revokeAllOfUser'>
  lockouts: Pick<LockoutStore, 'state' | 'states' | 'clear'>
  /** A disabled user's browser sessions end too. */
  sessions?: Pick<BrowserSessionStore, 'endAllOfUser'>
  audit: AuditTrail
  clock: Clock
}

export type AdminUser = ReturnType<typeof adminUserView>

/** The admin's view of one user: their state and their lockout. */
export async function viewUser(deps: Pick<AdminUserDeps, 'lockouts' | 'clock'>, user: User): Promise<AdminUser> {
  return adminUserView(user, await deps.lockouts.state(lockoutKey(user.email)), new Date(deps.clock.now()))
}

/** Who acts: an admin user (API), or the operator (CLI: no user). */
export interface Actor {
  userId: string | null
  meta: RequestMeta
  via: 'api' | 'cli'
}

export async function listUsers(
  deps: Pick<AdminUserDeps, 'users' | 'lockouts' | 'clock'>,
  q: { email?: string | undefined; role?: Role | undefined; disabled?: boolean | undefined; cursor?: string | undefined; limit: number },
) {
  const after = q.cursor === undefined ? undefined : creationCursor('users', q.cursor, isUuid)
  // email matches exactly, case-insensitively: stored addresses are lower-cased.
  const email = q.email === undefined ? undefined : (parseEmail(q.email) ?? q.email.trim().toLowerCase())
  const rows = await deps.users.list({
    email,
    role: q.role,
    disabled: q.disabled,
    after,
    limit: q.limit + 1,
  })
  const p = page(rows, q.limit, (u) => ['users', u.createdAt.toISOString(), u.id])
  const states = await deps.lockouts.states(p.items.map((u) => lockoutKey(u.email)))
  const now = new Date(deps.clock.now())
  const none = { failures: 0, lockedUntil: null }
  return { items: p.items.map((u) => adminUserView(u, states.get(lockoutKey(u.email)) ?? none, now)), next_cursor: p.next_cursor }
}

export async function findUser(deps: Pick<AdminUserDeps, 'users'>, id: string): Promise<User> {
  const user = await deps.users.findById(id)
  if (!user) throw new NotFound('No such user.')
  return user
}

/** The user with this address (the CLI names users by email). */
export async function findUserByEmail(deps: Pick<AdminUserDeps, 'users'>, email: string): Promise<User> {
  const address = parseEmail(email)
  const user = address ? await deps.users.findByEmail(address) : null
  if (!user) throw new NotFound(`No user with email ${email.slice(0, 254)}.`)
  return user
}

export interface UserChange {
  disabled?: boolean | undefined
  role?: Role | undefined
  /** Only `false` (unlock): locking is what failed sign-ins do. */
  locked?: false | undefined
}

/** Applies the change in a fixed order (unlock, role, enable/disable); returns the user as it is after. */
export async function changeUser(deps: AdminUserDeps, id: string, change: UserChange, actor: Actor): Promise<AdminUser> {
  let user = await findUser(deps, id)
  if (actor.userId === user.id && (change.disabled === true || (change.role !== undefined && change.role !== 'admin'))) {
    throw new Conflict('An admin cannot disable or demote themselves; ask another admin.')
  }
  const who = { actorId: actor.userId, subjectId: user.id, ...actor.meta }
  const now = new Date(deps.clock.now())
  const current = (u: User | null): User => {
    if (!u) throw new NotFound('No such user.')
    return u
  }
  if (change.locked === false) {
    await deps.lockouts.clear(lockoutKey(user.email))
    await deps.audit.record({ type: 'user.unlocked', ...who, details: { via: actor.via } })
  }
  if (change.role !== undefined && change.role !== user.role) {
    const from = user.role
    user = current(await deps.users.setRole(user.id, change.role))
    await deps.audit.record({ type: 'user.role_changed', ...who, details: { via: actor.via, from, to: change.role } })
  }
  if (change.disabled === true && !user.disabledAt) {
    user = current(await deps.users.setDisabled(user.id, now))
    // A disabled user keeps no session: every family goes, and with it every access token.
    const revoked = await deps.families.revokeAllOfUser(user.id, 'user_disabled', now)
    await deps.sessions?.endAllOfUser(user.id, now)
    await deps.audit.record({ type: 'user.disabled', ...who, details: { via: actor.via } })
    await deps.audit.familiesRevoked(revoked, 'user_disabled', who)
  } else if (change.disabled === false && user.disabledAt) {
    user = current(await deps.users.setDisabled(user.id, null))
    await deps.audit.record({ type: 'user.enabled', ...who, details: { via: actor.via } })
  }
  return viewUser(deps, user)
}
