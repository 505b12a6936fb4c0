// `tessera users list|disable|enable|unlock`, `clients delete` and `audit list`: the operator's
// side of the admin API, on the server's database, through the same services (in-process).
import t from 'tap'
import { fails, json, ok, scratch, tessera, type Where } from '../helpers/cli.js'
import { createPostgresDatabase } from '../helpers/db.js'

interface UserJson {
  id: string
  email: string
  role: string
  disabled: boolean
  locked_until: string | null
  failed_logins: number
}

interface EventJson {
  type: string
  actor_id: string | null
  subject_id: string | null
  client_id: string | null
  details: Record<string, unknown> | null
}

const LEGS = {
  pglite: async (t: { teardown(fn: () => unknown): void }): Promise<Where> => ({ cwd: scratch(t), env: {} }),
  postgres: async (t: { teardown(fn: () => unknown): void }): Promise<Where> => ({ cwd: scratch(t), env: { DATABASE_URL: await createPostgresDatabase(t) } }),
}

for (const [leg, setup] of Object.entries(LEGS)) {
  t.test(leg, { buffered: true }, async (t) => {
    const where = await setup(t)
    ok(t, await tessera(where, 'migrate'), 'migrate')
    const make = async (email: string) => json<UserJson>(await tessera(where, 'users', 'create', '--email', email, '--password', 'long-enough-pw', '--json'))
    const ada = await make('ada@example.com')
    const bob = await make('bob@example.com')

    t.test('users list', async (t) => {
      const all = await tessera(where, 'users', 'list', '--json')
      ok(t, all, 'users list --json')
      const users = json<UserJson[]>(all)
      t.same(
        users.map((u) => u.email),
        ['ada@example.com', 'bob@example.com'],
        'every user, oldest first',
      )
      t.notOk(JSON.stringify(users).includes('argon2'), 'never a password hash')
      t.same(
        json<UserJson[]>(await tessera(where, 'users', 'list', '--email', 'BOB@Example.com', '--json')).map((u) => u.id),
        [bob.id],
        'one address, case-insensitively',
      )
      t.same(json(await tessera(where, 'users', 'list', '--email', 'bo', '--json')), [], 'exactly, not a prefix')
      const text = await tessera(where, 'users', 'list')
      ok(t, text, 'users list')
      t.match(text.stdout, /^ID\s+EMAIL\s+NAME\s+ROLE\s+STATE\s+CREATED\n/)
      t.match(text.stdout, /ada@example\.com\s+-\s+user\s+active/)
    })

    t.test('users disable, enable, unlock', async (t) => {
      const disabled = await tessera(where, 'users', 'disable', 'ada@example.com', '--json')
      ok(t, disabled, 'disable')
      t.match(json<UserJson>(disabled), { id: ada.id, disabled: true })
      t.match((await tessera(where, 'users', 'list')).stdout, /ada@example\.com\s+-\s+user\s+disabled/)
      const enabled = await tessera(where, 'users', 'enable', 'ADA@example.com')
      ok(t, enabled, 'enable')
      t.equal(enabled.stdout, 'Enabled ada@example.com.\n')
      const unlocked = await tessera(where, 'users', 'unlock', 'bob@example.com', '--json')
      ok(t, unlocked, 'unlock')
      t.match(json<UserJson>(unlocked), { failed_logins: 0, locked_until: null })
      fails(t, await tessera(where, 'users', 'disable', 'nobody@example.com'), 1, 'No user with email nobody@example.com.', 'unknown user')
      fails(t, await tessera(where, 'users', 'disable'), 2, /users disable: needs exactly one EMAIL/, 'no argument')
      fails(t, await tessera(where, 'users', 'disable', 'a@example.com', 'b@example.com'), 2, /needs exactly one EMAIL/, 'two arguments')
    })

    t.test('clients delete', async (t) => {
      const created = json<{ client_id: string }>(await tessera(where, 'clients', 'create', '--name', 'Doomed', '--grant', 'client_credentials', '--json'))
      const r = await tessera(where, 'clients', 'delete', created.client_id, '--json')
      ok(t, r, 'clients delete')
      t.same(json(r), { client_id: created.client_id, revoked_families: 0 })
      t.same(
        json<{ client_id: string }[]>(await tessera(where, 'clients', 'list', '--json')).filter((c) => c.client_id === created.client_id),
        [],
        'gone from the list',
      )
      fails(t, await tessera(where, 'clients', 'delete', created.client_id), 1, 'No such client.', 'twice')
    })

    t.test('audit list', async (t) => {
      const all = json<EventJson[]>(await tessera(where, 'audit', 'list', '--json'))
      t.same(
        all.map((e) => e.type),
        ['client.deleted', 'client.created', 'user.unlocked', 'user.enabled', 'user.disabled', 'user.created', 'user.created'],
        'newest first: what the operator did above',
      )
      t.ok(
        all.every((e) => e.actor_id === null),
        'the operator is no Tessera user: no actor',
      )
      t.match(
        all.find((e) => e.type === 'user.disabled'),
        { subject_id: ada.id, details: { via: 'cli' } },
      )
      t.same(
        json<EventJson[]>(await tessera(where, 'audit', 'list', '--type', 'user.created', '--json')).map((e) => e.subject_id),
        [bob.id, ada.id],
        '--type',
      )
      t.same(
        json<EventJson[]>(await tessera(where, 'audit', 'list', '--user', 'ada@example.com', '--json')).map((e) => e.type),
        ['user.enabled', 'user.disabled', 'user.created'],
        '--user: events about Ada or done by her',
      )
      t.same(json(await tessera(where, 'audit', 'list', '--since', '2999-01-01', '--json')), [], '--since')
      t.equal(json<EventJson[]>(await tessera(where, 'audit', 'list', '--limit', '2', '--json')).length, 2, '--limit')
      const text = await tessera(where, 'audit', 'list', '--type', 'user.disabled')
      ok(t, text, 'audit list')
      t.match(text.stdout, /^AT\s+TYPE\s+ACTOR\s+SUBJECT\s+CLIENT\s+IP\s+DETAILS\nZ?\S+\s+user\.disabled\s+-\s+\S+\s+-\s+-\s+\{"via":"cli"\}\n$/)
      fails(t, await tessera(where, 'audit', 'list', '--since', 'yesterday'), 1, /--since yesterday is not a time/, 'a bad time')
      fails(t, await tessera(where, 'audit', 'list', '--limit', '0'), 1, /--limit must be 1 to 1000/, 'a bad limit')
      fails(t, await tessera(where, 'audit', 'list', '--user', 'nobody@example.com'), 1, /No user with email/, 'an unknown user')
    })
  })
}
