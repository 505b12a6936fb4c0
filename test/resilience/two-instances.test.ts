// Two Tessera server processes on one Postgres database, as behind a load balancer (same
// KEY_ENCRYPTION_KEY, same ISSUER), behave as one server: a family rotated on one instance is
// rotated for the other, reuse detected on either revokes it on both, a revocation on one holds
// on the other, two refreshes racing on the two instances rotate the family once, and password
// failures counted on both lock the account on both until an unlock. Key rotation across
// instances is test/keys/multi-instance.test.ts; limits shared through Redis,
// test/abuse/rate-limits.test.ts. Processes are started and killed by PID; every wait is bounded.
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { tessera } from '../helpers/cli.js'
import { createPostgresDatabase } from '../helpers/db.js'
import { readyJwks, type Server, scratch, serverCommand, startServer } from '../helpers/process.js'
import { type Answer, call, createClient, createUser, migrateDatabase, type RemoteUser } from '../helpers/remote.js'

t.comment(`server under test: ${serverCommand().what}`)
t.setTimeout(120_000)

const ISSUER = 'http://tessera.test'
const THRESHOLD = 4

t.test('two instances on one Postgres behave as one server', async (t) => {
  const databaseUrl = await createPostgresDatabase(t)
  const dir = scratch(t, 'tessera-two-')
  const where = { cwd: dir, env: { DATABASE_URL: databaseUrl, ISSUER } }
  await migrateDatabase(where)
  const client = await createClient(where, { audience: 'orders-api' })
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ISSUER,
    RATE_LIMIT_TOKEN: '0',
    LOCKOUT_THRESHOLD: String(THRESHOLD),
    LOCKOUT_WINDOW: '10m',
    LOCKOUT_DURATION: '10m',
  }
  // One at a time: the first bootstraps the key ring, the second loads it.
  const a = await startServer(t, dir, env, 'instance A')
  await readyJwks(a)
  const b = await startServer(t, dir, env, 'instance B')
  await readyJwks(b)

  const token = (server: Server, form: Record<string, string>) => call(server.url, '/token', { form, authorization: client.authorization })
  const signIn = (server: Server, user: RemoteUser) => token(server, { grant_type: 'password', username: user.email, password: user.password })
  const refresh = (server: Server, refreshToken: string) => token(server, { grant_type: 'refresh_token', refresh_token: refreshToken })
  const active = async (server: Server, tokenValue: string) =>
    (await call(server.url, '/introspect', { form: { token: tokenValue }, authorization: client.authorization })).body.active as boolean
  const ok = (t: Test, res: Answer, what: string) => {
    t.equal(res.status, 200, what)
    return res.body as { access_token: string; refresh_token: string }
  }

  t.test('rotation alternates between the instances; reuse on one revokes the family on both', async (t) => {
    const user = await createUser(where)
    const first = ok(t, await signIn(a, user), 'signed in on A')
    const second = ok(t, await refresh(b, first.refresh_token), 'A’s refresh token refreshes on B')
    const third = ok(t, await refresh(a, second.refresh_token), 'B’s refresh token refreshes on A')
    t.ok(await active(b, third.access_token), 'the newest access token is active on B')
    t.ok(await active(a, third.refresh_token), 'the newest refresh token is active on A')

    const reuse = await refresh(b, first.refresh_token)
    t.same({ status: reuse.status, error: reuse.body.error }, { status: 400, error: 'invalid_grant' }, 'the spent first token, on B: reuse')
    for (const [name, server] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const res = await refresh(server, third.refresh_token)
      t.same({ status: res.status, error: res.body.error }, { status: 400, error: 'invalid_grant' }, `the family's newest token is dead on ${name}`)
      t.notOk(await active(server, third.access_token), `its access token is inactive on ${name}`)
    }
  })

  t.test('a revocation on one instance holds on the other', async (t) => {
    const user = await createUser(where)
    const session = ok(t, await signIn(a, user), 'signed in on A')
    const revoked = await call(b.url, '/revoke', { form: { token: session.refresh_token }, authorization: client.authorization })
    t.equal(revoked.status, 200, 'revoked on B')
    const res = await refresh(a, session.refresh_token)
    t.same({ status: res.status, error: res.body.error }, { status: 400, error: 'invalid_grant' }, 'the refresh token is dead on A')
    t.notOk(await active(a, session.access_token), "the family's access token is inactive on A")

    const other = ok(t, await signIn(b, user), 'a second session, on B')
    await call(a.url, '/revoke', { form: { token: other.access_token }, authorization: client.authorization })
    t.notOk(await active(b, other.access_token), 'an access token revoked on A is inactive on B')
    t.ok(await active(b, other.refresh_token), 'its family was left alone (RFC 7009: an access token revokes itself)')
  })

  t.test('one refresh token sent to both instances at once rotates the family once', async (t) => {
    const user = await createUser(where)
    for (let round = 0; round < 5; round++) {
      const session = ok(t, await signIn(round % 2 ? a : b, user), `round ${round}: signed in`)
      const answers = await Promise.all([refresh(a, session.refresh_token), refresh(b, session.refresh_token)])
      const winners = answers.filter((r) => r.status === 200)
      t.equal(winners.length, 1, `round ${round}: exactly one of the two racing refreshes succeeds`)
      const loser = answers.find((r) => r.status !== 200)
      t.same({ status: loser?.status, error: loser?.body.error }, { status: 400, error: 'invalid_grant' }, `round ${round}: the other is invalid_grant`)
      // The loser presented a spent token: reuse, so the family the winner holds is revoked too.
      const usable = await Promise.all(winners.map((w) => active(a, w.body.refresh_token)))
      t.same(usable, [false], `round ${round}: the race counts as reuse, and the winner's token is revoked with its family`)
    }
  })

  t.test('password failures on both instances lock the account on both; an unlock releases it on both', async (t) => {
    const user = await createUser(where)
    const wrong = { ...user, password: 'not the password at all' }
    const failures: number[] = []
    for (let i = 0; i < THRESHOLD; i++) failures.push((await signIn(i % 2 ? b : a, wrong)).status)
    t.same(failures, Array(THRESHOLD).fill(400), `${THRESHOLD} wrong passwords, alternating A and B: invalid_grant each`)
    for (const [name, server] of [
      ['A', a],
      ['B', b],
    ] as const) {
      const res = await signIn(server, user)
      t.same({ status: res.status, error: res.body.error }, { status: 429, error: 'rate_limited' }, `locked on ${name}, even for the right password`)
      t.ok(Number(res.headers.get('retry-after')) > 0, `${name} says when to retry`)
    }
    const unlock = await tessera(where, 'users', 'unlock', user.email)
    t.equal(unlock.code, 0, '`tessera users unlock` on the shared database')
    ok(t, await signIn(b, user), 'B signs the user in again')
    ok(t, await signIn(a, user), 'so does A')
  })
})
