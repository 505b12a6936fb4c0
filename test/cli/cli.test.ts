// `tessera` as an operator runs it, judged by stdout, stderr, the exit code and what it left in
// the database. Each database leg runs the same story on an embedded PGlite directory and on a
// fresh Postgres database.
//
// Almost every run is in this process: src/cli/run.ts's run(argv, io), with the run's own
// environment, working directory and standard input (test/helpers/cli.ts). The binary
// (src/cli/index.ts) only hands it process.argv, process.env and the process's streams, so a few
// runs spawn it for what only a real process shows: its exit status, --password-stdin on a real
// pipe while it holds the embedded database (which admits one process, by pid), a reader that
// goes away (EPIPE), and create → list as two processes on one database. Those run from src/
// through tsx (dist/ is a build artefact that goes stale; `npm run build` compiles the same
// module to the package's `bin`).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { verifyPassword } from '../../src/accounts/passwords.js'
import { sha256 } from '../../src/lib/secrets.js'
import { type Connection, openDatabase } from '../../src/stores/database.js'
import { readMigrations } from '../../src/stores/migrate.js'
import { build, testConfig } from '../helpers/build.js'
import { fails, json, ok, scratch, spawnTessera, tessera, tesseraBinary, tesseraWithInput } from '../helpers/cli.js'
import { createPostgresDatabase } from '../helpers/db.js'
import { until } from '../helpers/wait.js'

const MIGRATIONS = readMigrations().map((m) => m.name)

// Most runs open PGlite's WASM; the few spawned ones start a fresh Node with tsx.
t.setTimeout(300_000)
// The legs and the command-line checks run side by side (each in its own directory and
// database, with its own io); the spawned runs use the other core meanwhile.
t.jobs = 3

interface UserJson {
  id: string
  email: string
  name: string | null
  role: string
  created_at: string
}

interface ClientJson {
  client_id: string
  client_secret?: string
  name: string
  public: boolean
  cookie_delivery: boolean
  grant_types: string[]
  scopes: string[]
  audience: string | null
  redirect_uris: string[]
  post_logout_redirect_uris: string[]
  first_party: boolean
  reuse_leeway: number | null
  created_at: string
}

interface KeyJson {
  kid: string
  state: string
  created_at: string
  published_at: string
  activated_at: string | null
}

const LEGS = {
  // Default configuration in a scratch working directory: PGlite in ./data, key file ./keys/.
  pglite: async (t: { teardown(fn: () => unknown): void }) => ({ cwd: scratch(t), env: {} as Record<string, string> }),
  postgres: async (t: { teardown(fn: () => unknown): void }) => ({ cwd: scratch(t), env: { DATABASE_URL: await createPostgresDatabase(t) } }),
}

for (const [leg, setup] of Object.entries(LEGS)) {
  t.test(leg, { buffered: true }, async (t) => {
    const where = await setup(t)
    const dataDir = join(where.cwd, 'data')
    /** Opens the CLI's database in this process, for looking behind its back. */
    const withDb = async <T>(fn: (db: Connection) => Promise<T>): Promise<T> => {
      const db = await openDatabase({ databaseUrl: where.env.DATABASE_URL, pgliteDir: dataDir })
      try {
        return await fn(db)
      } finally {
        await db.close()
      }
    }

    await t.test('before migrate, a data command refuses and names the fix', async (t) => {
      fails(t, await tessera(where, 'clients', 'list'), 1, /^tessera: the database is not migrated: .*run `tessera migrate` first\n$/, 'clients list')
    })

    await t.test('migrate applies every migration, then nothing', async (t) => {
      const first = await tessera(where, 'migrate')
      ok(t, first, 'first migrate')
      for (const name of MIGRATIONS) t.match(first.stdout, name, `names ${name}`)
      t.match(first.stdout, /^Applied \d+ migrations?:/)

      const second = await tessera(where, 'migrate', '--json')
      ok(t, second, 'second migrate')
      t.same(json(second), { applied: [], modified: [] }, 'the second run applies nothing')

      const applied = await withDb((db) =>
        db.query<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY 1'),
      )
      t.same(
        applied.map((r) => r.migration_name),
        MIGRATIONS,
        'recorded in _prisma_migrations',
      )
    })

    const adminPassword = 'Adm1n-pass-phrase'
    let admin: UserJson

    await t.test('users create --json prints the user, never the password', async (t) => {
      const r = await tessera(
        where,
        'users',
        'create',
        '--email',
        ' Admin@Example.COM ',
        '--password',
        adminPassword,
        '--role',
        'admin',
        '--name',
        'Ada',
        '--json',
      )
      ok(t, r, 'users create')
      admin = json<UserJson>(r)
      t.same(Object.keys(admin).sort(), ['created_at', 'email', 'id', 'name', 'role'], 'the API user view, nothing more')
      t.match(admin, { email: 'admin@example.com', name: 'Ada', role: 'admin', id: /^[0-9a-f-]{36}$/ })
      t.ok(!Number.isNaN(Date.parse(admin.created_at)), 'created_at is ISO-8601')
      t.notOk(r.stdout.includes(adminPassword), 'no password on stdout')

      const row = await withDb(async (db) => {
        const [user] = await db.query<{ role: string; password_hash: string }>('SELECT role, password_hash FROM users WHERE id = $1', [admin.id])
        const [audit] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'user.created' AND subject_id = $1`, [admin.id])
        return { user, audited: audit?.n }
      })
      t.equal(row.user?.role, 'admin', 'stored with the role')
      t.match(row.user?.password_hash, /^\$argon2id\$/, 'the password is stored as an argon2id hash')
      t.equal(row.audited, 1, 'an audit row records the creation')
    })

    await t.test('users create as text, default role', async (t) => {
      const r = await tessera(where, 'users', 'create', '--email', 'bob@example.com', '--password', 'b0b-password')
      ok(t, r, 'users create')
      t.match(r.stdout, /^Created user bob@example\.com\n/)
      t.match(r.stdout, /\nrole: +user\n/)
      t.notOk(r.stdout.includes('b0b-password'), 'no password on stdout')
    })

    await t.test('the services validate: email taken, bad email, short password', async (t) => {
      fails(
        t,
        await tessera(where, 'users', 'create', '--email', 'ADMIN@example.com', '--password', 'another-password'),
        1,
        'An account with this email already exists.',
        'taken email',
      )
      fails(t, await tessera(where, 'users', 'create', '--email', 'not-an-email', '--password', 'long-enough-pw'), 1, /email/, 'bad email')
      const short = await tessera(where, 'users', 'create', '--email', 'carol@example.com', '--password', 'Sh0rt')
      fails(t, short, 1, /password.*8 to 256/, 'short password')
      t.notOk(short.stderr.includes('Sh0rt'), 'the error does not echo the password')
      fails(
        t,
        await tessera(where, 'users', 'create', '--email', 'dave@example.com', '--password', 'long-enough-pw', '--role', 'root'),
        2,
        /--role must be one of: user, admin/,
        'unknown role',
      )
      const emails = await withDb(async (db) => (await db.query<{ email: string }>('SELECT email FROM users ORDER BY email')).map((r) => r.email))
      t.same(emails, ['admin@example.com', 'bob@example.com'], 'no account was created by a failed command')
    })

    await t.test('users create --password-stdin keeps the password off the command line', async (t) => {
      const password = 'p1ped pass-phrase'
      const r = await tesseraWithInput(where, `${password}\n`, 'users', 'create', '--email', 'piped@example.com', '--password-stdin', '--json')
      ok(t, r, 'users create --password-stdin')
      const user = json<UserJson>(r)
      t.notOk(r.stdout.includes(password), 'no password on stdout')
      const [row] = await withDb((db) => db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id]))
      t.ok(await verifyPassword(row?.password_hash, password), 'the password is what came in, without its newline')
      t.notOk(await verifyPassword(row?.password_hash, `${password}\n`), 'the newline is not part of it')

      const empty = await tesseraWithInput(where, '', 'users', 'create', '--email', 'nobody@example.com', '--password-stdin')
      fails(t, empty, 1, /password.*8 to 256/, 'nothing on stdin: the service refuses the empty password')
    })

    const secrets: string[] = []
    let confidential: ClientJson
    let textClientId: string

    await t.test('clients create shows the secret once and stores only its sha256', async (t) => {
      const text = await tessera(
        where,
        'clients',
        'create',
        '--name',
        'Web app',
        '--grant',
        'password',
        '--grant',
        'refresh_token',
        '--scope',
        'openid profile',
        '--scope',
        'read',
      )
      ok(t, text, 'clients create')
      textClientId = /^client_id: +(\S+)$/m.exec(text.stdout)?.[1] ?? ''
      const textSecret = /^client_secret: +(\S+)$/m.exec(text.stdout)?.[1] ?? ''
      t.match(textSecret, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit secret is printed')
      t.equal(text.stdout.split(textSecret).length - 1, 1, 'the secret appears exactly once')
      t.match(text.stdout, /shown only this once/)
      secrets.push(textSecret)

      const r = await tessera(
        where,
        'clients',
        'create',
        '--name',
        'Backend',
        '--grant',
        'client_credentials',
        '--scope',
        'read',
        '--audience',
        'https://api.example.com',
        '--json',
      )
      ok(t, r, 'clients create --json')
      confidential = json<ClientJson>(r)
      t.match(confidential, {
        name: 'Backend',
        public: false,
        cookie_delivery: false,
        grant_types: ['client_credentials'],
        scopes: ['read'],
        audience: 'https://api.example.com',
        client_secret: /^[A-Za-z0-9_-]{43}$/,
      })
      secrets.push(confidential.client_secret!)

      const rows = await withDb((db) =>
        db.query<{ id: string; secret_hash: string; row: string }>('SELECT id, secret_hash, row_to_json(c)::text AS row FROM clients c ORDER BY created_at'),
      )
      const audit = await withDb(
        async (db) => (await db.query<{ all: string }>(`SELECT coalesce(string_agg(row_to_json(a)::text, ''), '') AS "all" FROM audit_events a`))[0]!.all,
      )
      t.same(
        rows.map((c) => c.id),
        [textClientId, confidential.client_id],
      )
      t.same(
        rows.map((c) => c.secret_hash),
        secrets.map(sha256),
        'the stored hash is the sha256 of the printed secret',
      )
      for (const [i, c] of rows.entries()) t.notOk(c.row.includes(secrets[i]!), 'no plaintext secret in the client row')
      for (const s of secrets) t.notOk(audit.includes(s), 'no plaintext secret in the audit trail')
      t.match(audit, /"type":"client\.created"/, 'the creation is audited')
    })

    await t.test('a public client has no secret; the service refuses client_credentials for it', async (t) => {
      const r = await tessera(where, 'clients', 'create', '--name', 'SPA', '--grant', 'password', '--grant', 'refresh_token', '--public', '--cookie', '--json')
      ok(t, r, 'public client')
      const spa = json<ClientJson>(r)
      t.notOk('client_secret' in spa, 'no secret printed')
      t.match(spa, { public: true, cookie_delivery: true, audience: null })
      const [row] = await withDb((db) => db.query<{ secret_hash: string | null }>('SELECT secret_hash FROM clients WHERE id = $1', [spa.client_id]))
      t.equal(row?.secret_hash, null, 'no secret stored')

      fails(
        t,
        await tessera(where, 'clients', 'create', '--name', 'Bad', '--grant', 'client_credentials', '--public'),
        1,
        'A public client cannot use client_credentials.',
        'public + client_credentials',
      )
      fails(t, await tessera(where, 'clients', 'create', '--name', 'Bad', '--grant', 'implicit'), 1, /Unknown grant type: implicit/, 'unknown grant')
    })

    await t.test('clients create: redirect URIs, first-party, reuse leeway', async (t) => {
      const args = ['clients', 'create', '--name', 'Site', '--grant', 'authorization_code', '--grant', 'refresh_token', '--public', '--cookie']
      const uris = [
        '--redirect-uri',
        'https://site.example/cb',
        '--redirect-uri',
        'http://127.0.0.1:8080/cb',
        '--post-logout-redirect-uri',
        'https://site.example/',
      ]
      const r = await tessera(where, ...args, ...uris, '--first-party', '--reuse-leeway', '30s', '--json')
      ok(t, r, 'clients create with the new flags')
      t.match(json<ClientJson>(r), {
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['https://site.example/cb', 'http://127.0.0.1:8080/cb'],
        post_logout_redirect_uris: ['https://site.example/'],
        first_party: true,
        reuse_leeway: 30,
      })
      const text = await tessera(where, 'clients', 'create', '--name', 'Site 2', '--grant', 'authorization_code', '--public', '--cookie', ...uris)
      ok(t, text, 'clients create (text)')
      t.match(text.stdout, /^redirect_uris: +https:\/\/site\.example\/cb http:\/\/127\.0\.0\.1:8080\/cb$/m)
      t.match(text.stdout, /^post_logout: +https:\/\/site\.example\/$/m)
      t.match(text.stdout, /^first_party: +no$/m)
      t.match(text.stdout, /^reuse_leeway: +10s \(default\)$/m, 'a cookie client: 10 s unless told')

      fails(t, await tessera(where, ...args), 1, 'A client with the authorization_code grant needs at least one redirect URI.', 'no redirect URI')
      fails(t, await tessera(where, ...args, '--redirect-uri', 'http://site.example/cb'), 1, /"http:\/\/site\.example\/cb" must be https/, 'http')
      fails(t, await tessera(where, ...args, ...uris, '--reuse-leeway', '10m'), 1, /reuse leeway must be a whole number of seconds from 0 to 300/, '10m')
      fails(t, await tessera(where, ...args, ...uris, '--reuse-leeway', 'soon'), 2, /--reuse-leeway must be a duration/, 'not a duration')
    })

    await t.test('clients list never shows a secret or its hash', async (t) => {
      const r = await tessera(where, 'clients', 'list', '--json')
      ok(t, r, 'clients list --json')
      const clients = json<ClientJson[]>(r)
      t.equal(clients.length, 5)
      t.same(clients.map((c) => c.client_id).slice(0, 2), [textClientId, confidential.client_id])
      t.same(
        clients.map((c) => c.first_party),
        [true, false, true, true, false],
        'a password client is first-party',
      )
      for (const c of clients)
        t.same(Object.keys(c).sort(), [
          'audience',
          'client_id',
          'cookie_delivery',
          'created_at',
          'first_party',
          'grant_types',
          'name',
          'post_logout_redirect_uris',
          'public',
          'redirect_uris',
          'reuse_leeway',
          'scopes',
        ])
      const text = await tessera(where, 'clients', 'list')
      ok(t, text, 'clients list')
      t.match(text.stdout, /^CLIENT_ID +NAME/)
      t.match(text.stdout, textClientId)
      for (const out of [r.stdout, text.stdout]) {
        for (const s of secrets) {
          t.notOk(out.includes(s), 'no secret')
          t.notOk(out.includes(sha256(s)), 'no secret hash')
        }
      }
    })

    await t.test('keys list: empty, then the ring the app created; no key-encryption key needed', async (t) => {
      const empty = await tessera(where, 'keys', 'list', '--json')
      ok(t, empty, 'keys list on a migrated database')
      t.same(json(empty), [], 'no keys yet')

      // The app (as the server builds it) makes the first active and next keys.
      const db = await openDatabase({ databaseUrl: where.env.DATABASE_URL, pgliteDir: dataDir })
      let ring: { kid: string; state: string }[]
      try {
        const { app } = await build({ teardown: () => {} }, leg === 'postgres' ? 'postgres' : 'pglite', { db, config: testConfig() })
        ring = app.keys.keys.map((k) => ({ kid: k.kid, state: k.state }))
        await app.close()
      } finally {
        await db.close()
      }

      // Production refuses to invent a key-encryption key: were one needed, this would fail.
      const r = await tessera({ ...where, env: { ...where.env, NODE_ENV: 'production' } }, 'keys', 'list', '--json')
      ok(t, r, 'keys list with no KEY_ENCRYPTION_KEY in production')
      const keys = json<KeyJson[]>(r)
      t.same(
        keys.map((k) => ({ kid: k.kid, state: k.state })).sort((a, b) => a.state.localeCompare(b.state)),
        ring.sort((a, b) => a.state.localeCompare(b.state)),
      )
      t.same(keys.map((k) => k.state).sort(), ['active', 'next'])
      for (const k of keys) {
        t.notOk('sealedPrivateKey' in k || 'private_key' in k, 'no private key material')
        t.ok(!Number.isNaN(Date.parse(k.created_at)) && !Number.isNaN(Date.parse(k.published_at)))
        t.equal(k.activated_at === null, k.state === 'next', 'only the active key has an activation date')
      }
      const text = await tessera(where, 'keys', 'list')
      ok(t, text, 'keys list')
      t.match(text.stdout, /^KID +STATE +CREATED +PUBLISHED +ACTIVATED\n/)
      for (const k of ring) t.match(text.stdout, new RegExp(`^${k.kid} +${k.state} `, 'm'))
    })

    await t.test('no command made key material, and each closed the database', async (t) => {
      t.notOk(existsSync(join(where.cwd, 'keys')), 'no keys/ directory (no key-encryption key file)')
      if (leg === 'pglite') t.notOk(existsSync(join(dataDir, 'tessera.pid')), 'the embedded database was released')
    })

    if (leg === 'pglite') {
      const lockHolder = () => {
        try {
          return Number(readFileSync(join(dataDir, 'tessera.pid'), 'utf8').split(' ')[0])
        } catch {
          return undefined
        }
      }

      await t.test('a real process reading --password-stdin from a pipe holds the embedded database; another command gets one plain line', async (t) => {
        // The binary opens the database, then waits for its password: it holds the directory
        // (by its pid) until the test ends its standard input.
        const password = 'p1ped-through a real pipe'
        const holder = spawnTessera(t, where, ['users', 'create', '--email', 'held@example.com', '--password-stdin', '--json'], { stdin: 'pipe' })
        await until('the spawned CLI holds the embedded database', 60_000, () => lockHolder() === holder.pid || !holder.running())
        t.ok(holder.running(), 'the holder is waiting for its password')

        const r = await tessera(where, 'users', 'create', '--email', 'erin@example.com', '--password', 'long-enough-pw')
        fails(
          t,
          r,
          1,
          new RegExp(
            `^tessera: the embedded database in ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by process ${holder.pid} .*set DATABASE_URL`,
          ),
          'held',
        )

        holder.stdin!.end(`${password}\n`)
        const { code } = await holder.exit(60_000)
        const piped = { code, stdout: holder.stdout(), stderr: holder.stderr() }
        ok(t, piped, 'the real binary, --password-stdin')
        const user = json<{ id: string }>(piped)
        t.notOk(piped.stdout.includes(password), 'no password on stdout')
        const [row] = await withDb((db) => db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id]))
        t.ok(await verifyPassword(row?.password_hash, password), 'the password is what came through the pipe, without its newline')

        const after = await withDb(async (db) => db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE email = 'erin@example.com'`))
        t.equal(after[0]?.n, 0, 'nothing was written')
        ok(t, await tessera(where, 'clients', 'list'), 'works again once released')
      })

      await t.test('the real binary end to end: clients create, then clients list in another process', async (t) => {
        const created = await tesseraBinary(
          t,
          where,
          'clients',
          'create',
          '--name',
          'From the shell',
          '--grant',
          'client_credentials',
          '--scope',
          'read',
          '--json',
        )
        ok(t, created, 'clients create (real process)')
        const id = json<ClientJson>(created).client_id
        // The first process let go of the directory when it exited: the second may open it.
        const listed = await tesseraBinary(t, where, 'clients', 'list')
        ok(t, listed, 'clients list (real process)')
        t.match(listed.stdout, /^CLIENT_ID +NAME/)
        t.match(listed.stdout, new RegExp(`^${id} +From the shell +confidential `, 'm'), 'lists the client the other process made')
        t.notOk(existsSync(join(dataDir, 'tessera.pid')), 'and released the embedded database')
      })

      await t.test('`tessera clients list | head -1`: a reader that stops early is not a crash', async (t) => {
        // The reading end is closed before the CLI writes: its write fails with EPIPE.
        const cli = spawnTessera(t, where, ['clients', 'list'], { stdout: 'gone' })
        t.same(await cli.exit(120_000), { code: 0, signal: null }, 'exit 0')
        t.equal(cli.stderr(), '', 'nothing on stderr (no stack trace)')
      })
    }
  })
}

t.test('the command line itself', { buffered: true }, async (t) => {
  const where = { cwd: scratch(t), env: {} }

  await t.test('--help lists every command and touches nothing', async (t) => {
    const r = await tessera(where, '--help')
    ok(t, r, '--help')
    for (const c of ['migrate', 'users create', 'clients create', 'clients list', 'keys list']) t.match(r.stdout, new RegExp(`^  ${c} `, 'm'))
    const sub = await tessera(where, 'clients', 'create', '--help')
    ok(t, sub, 'clients create --help')
    t.match(
      sub.stdout,
      /^Usage: tessera clients create --name N --grant G \[--grant G…\] \[--scope S…\] \[--audience A\] \[--public\] \[--cookie\] \[--first-party\] \[--redirect-uri U…\] \[--post-logout-redirect-uri U…\] \[--reuse-leeway D\] \[--json\]\n/,
    )
    t.notOk(existsSync(join(where.cwd, 'data')), 'no database was opened')
  })

  await t.test('bad command lines: exit 2, one line', async (t) => {
    fails(t, await tessera(where), 2, /no command given/, 'no command')
    fails(t, await tessera(where, 'frobnicate'), 2, /^tessera: unknown command "frobnicate"; commands: migrate, users create/, 'unknown command')
    fails(t, await tessera(where, 'users', 'delete'), 2, /unknown command "users delete"; "users" has: create/, 'unknown subcommand')
    fails(t, await tessera(where, 'keys'), 2, /"keys" needs a subcommand: list/, 'missing subcommand')
    fails(t, await tessera(where, 'clients', 'list', '--secrets'), 2, /clients list: unknown option --secrets/, 'unknown option')
    fails(
      t,
      await tessera(where, 'users', 'create', '--email', 'a@example.com'),
      2,
      /users create: missing --password or --password-stdin \(usage: tessera users create --email E \(--password P \| --password-stdin\) \[--role R\]/,
      'missing flag',
    )
    fails(
      t,
      await tessera(where, 'users', 'create', '--email', 'a@example.com', '--password', 'long-enough-pw', '--password-stdin'),
      2,
      /give --password or --password-stdin, not both/,
      'both ways of giving the password',
    )
    fails(t, await tessera(where, 'clients', 'create', '--name', 'x'), 2, /clients create: missing --grant/, 'missing repeatable flag')
    fails(t, await tessera(where, 'users', 'create', '--email', 'a@example.com', '--password'), 2, /--password needs a value/, 'flag without its value')
    const extra = await tessera(where, 'users', 'create', '--email', 'a@example.com', '--password', 'two', 'words')
    fails(t, extra, 2, /unexpected argument/, 'stray positional')
    t.notOk(extra.stderr.includes('words'), 'a stray word (maybe half a password) is not echoed')
    fails(
      t,
      await tessera(where, 'users', 'create', '--email', 'a@example.com', '--email', 'b@example.com', '--password', 'x'),
      2,
      /--email was given more than once/,
      'repeated single flag',
    )
    t.notOk(existsSync(join(where.cwd, 'data')), 'no database was opened')
  })

  await t.test('bad configuration and an unreachable Postgres: exit 1, one line, no password', async (t) => {
    fails(t, await tessera({ ...where, env: { PORT: 'eighty' } }, 'clients', 'list'), 1, /^tessera: Invalid PORT="eighty"/, 'bad config')
    const r = await tessera({ ...where, env: { DATABASE_URL: 'postgres://tessera:s3cret-pw@127.0.0.1:1/tessera' } }, 'migrate')
    fails(t, r, 1, /^tessera: cannot reach Postgres at postgres:\/\/tessera:\*\*\*@127\.0\.0\.1:1\/tessera/, 'unreachable')
    t.notOk(r.stderr.includes('s3cret-pw'), 'the password is not shown')
  })

  await t.test('the real binary sets its exit status: 2 for a bad command line, 1 for a failed command', async (t) => {
    const [usage, failed] = await Promise.all([
      tesseraBinary(t, where, 'frobnicate'),
      tesseraBinary(t, { ...where, env: { PORT: 'eighty' } }, 'clients', 'list'),
    ])
    fails(t, usage, 2, /^tessera: unknown command "frobnicate"; commands: migrate, users create/, 'unknown command (real process)')
    fails(t, failed, 1, /^tessera: Invalid PORT="eighty"/, 'bad config (real process)')
  })
})
