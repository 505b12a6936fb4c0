// docs/errors.md#unavailable: the database going away gives 503 `unavailable`, and
// service resumes by itself when it returns. One real server (a child process) on a Postgres
// cluster of the test's own, which the test stops (pg_ctl stop -m fast, then a second outage
// with -m immediate, as a crash of the database server) and starts again on the same data
// directory and port. While it is down every route that needs the database answers 503 in the
// JSON error shape within 2 s, the process stays up, /healthz and the JWKS (served from memory)
// answer 200; once it is back the same process serves again, and every user, client and
// refresh family made before the outage is there and works. Every wait is for a condition,
// bounded; the server is killed by PID at teardown if it is still running.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { startCluster } from '../helpers/pg-cluster.js'
import { readyJwks, scratch, serverCommand, startServer } from '../helpers/process.js'
import { type Answer, call, claims, createClient, createUser, migrateDatabase } from '../helpers/remote.js'
import { until } from '../helpers/wait.js'

t.comment(`server under test: ${serverCommand().what}`)

const ISSUER = 'http://tessera.test'
/** docs/errors.md#unavailable: a request that needs a missing database is answered, 503, within this. */
const ANSWER_WITHIN = 2000
/** How long the server may take to notice that the database is back (its next connection attempt). */
const RESUME_WITHIN = 15_000
/**
 * src/plugins/database.ts: clients are cached for 5 s on every instance. client_credentials needs
 * nothing else from the database (no family, no audit row), so for up to this long after its
 * last lookup the client is known without it and the grant is served: documented, not a failure.
 * Once the entry has expired the grant needs the database, and is 503.
 */
const CLIENT_CACHE_MS = 5000

t.test('the database goes away and comes back: 503 unavailable meanwhile, then service resumes by itself', async (t) => {
  // synchronous_commit on: an immediate shutdown of Postgres must not lose what it had committed.
  const cluster = await startCluster(t, { synchronous_commit: 'on' })
  const dir = scratch(t, 'tessera-dbloss-')
  const where = { cwd: dir, env: { DATABASE_URL: cluster.url, ISSUER } }
  await migrateDatabase(where)
  const client = await createClient(where)
  const user = await createUser(where)
  const server = await startServer(
    t,
    dir,
    {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      DATABASE_URL: cluster.url,
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ISSUER,
      // The background key-ring poll meets the outage too, within a second.
      KEY_RING_POLL: '1',
      RATE_LIMIT_TOKEN: '0',
      RATE_LIMIT_SIGNUP: '0',
    },
    'tessera',
  )
  await readyJwks(server)
  const jwksBefore = await call(server.url, '/.well-known/jwks.json')
  const pid = server.pid

  const token = (form: Record<string, string>) => call(server.url, '/token', { form, authorization: client.authorization })
  const signIn = (u: { email: string; password: string }) => token({ grant_type: 'password', username: u.email, password: u.password, scope: 'read' })
  const refresh = (rt: string) => token({ grant_type: 'refresh_token', refresh_token: rt })
  const introspect = (tok: string) => call(server.url, '/introspect', { form: { token: tok }, authorization: client.authorization })
  const me = (at: string) => call(server.url, '/me', { authorization: `Bearer ${at}` })
  const signUp = (email: string) => call(server.url, '/users', { json: { email, password: 'another good passphrase' } })

  // Before the outage: a family rotated once (its current token is kept for after), a second
  // family never refreshed, a user who signed up over HTTP, a client_credentials token.
  t.equal((await call(server.url, '/readyz')).status, 200, 'ready before the outage')
  const first = await signIn(user)
  t.equal(first.status, 200, 'sign-in')
  const rotated = await refresh(first.body.refresh_token)
  t.equal(rotated.status, 200, 'a refresh before the outage')
  const untouched = await signIn(user)
  t.equal(untouched.status, 200, 'a second sign-in (a second family)')
  const signedUp = await signUp(`early-${Date.now()}@example.com`)
  t.equal(signedUp.status, 201, 'a sign-up over HTTP')
  const cc = await token({ grant_type: 'client_credentials' })
  t.equal(cc.status, 200, 'client_credentials')
  t.equal((await introspect(rotated.body.access_token)).body.active, true)
  t.equal((await me(rotated.body.access_token)).status, 200)
  const laterEmail = `during-outage-${Date.now()}@example.com`

  /** Every route that needs the database; each must answer 503 `unavailable`, JSON, quickly. */
  const probes: [string, () => Promise<Answer>][] = [
    ['GET /readyz', () => call(server.url, '/readyz')],
    ['POST /token password', () => signIn(user)],
    ['POST /token client_credentials', () => token({ grant_type: 'client_credentials' })],
    // Presented while the database is away, it must come back unspent (checked after).
    ['POST /token refresh_token', () => refresh(rotated.body.refresh_token)],
    ['POST /introspect', () => introspect(rotated.body.access_token)],
    ['GET /me', () => me(rotated.body.access_token)],
    ['POST /users', () => signUp(laterEmail)],
  ]
  /** `cached`: right after the outage began, when client_credentials may still be served from the client cache. */
  const assertDown = async (t: Tap, when: string, cached = false) => {
    for (const [name, send] of probes) {
      const a = await send()
      if (cached && name === 'POST /token client_credentials' && a.status === 200) {
        t.equal(claims(a.body.access_token).sub, client.id, `${when}: ${name} is served from the client cache (200), which needs no database`)
        continue
      }
      t.equal(a.status, 503, `${when}: ${name} is 503 (${JSON.stringify(a.body)})`)
      t.match(a.body, { error: 'unavailable', error_description: String }, `${when}: ${name} in the JSON error shape`)
      t.same(Object.keys(a.body).sort(), ['error', 'error_description'], `${when}: ${name}: nothing else in the body`)
      t.match(a.headers.get('content-type'), /^application\/json/, `${when}: ${name}: JSON`)
      t.equal(a.headers.get('retry-after'), '1', `${when}: ${name}: Retry-After: 1`)
      t.ok(a.ms < ANSWER_WITHIN, `${when}: ${name} answered in ${a.ms.toFixed(0)} ms (under ${ANSWER_WITHIN})`)
    }
    t.ok(server.running(), `${when}: the process is still running`)
    t.equal((await call(server.url, '/healthz')).status, 200, `${when}: /healthz is 200`)
    const jwks = await call(server.url, '/.well-known/jwks.json')
    t.equal(jwks.status, 200, `${when}: the JWKS is 200, from memory`)
    t.same(jwks.body, jwksBefore.body, `${when}: the same keys`)
    t.equal(jwks.headers.get('etag'), jwksBefore.headers.get('etag'), `${when}: the same ETag`)
  }
  type Tap = typeof t

  /** client_credentials becomes 503 once the client cache has expired: 200 until then, nothing else. */
  const cacheExpires = async (t: Tap, since: number) => {
    const seen = new Set<number>()
    await until(
      'client_credentials needs the database again (the client cache expired)',
      CLIENT_CACHE_MS + 5000,
      async () => {
        const a = await token({ grant_type: 'client_credentials' })
        seen.add(a.status)
        return a.status === 503
      },
      200,
    )
    t.same(
      [...seen].filter((s) => s !== 200 && s !== 503),
      [],
      'meanwhile only 200 (cached client) or 503',
    )
    t.ok(
      Date.now() - since <= CLIENT_CACHE_MS + 3000,
      `client_credentials is 503 ${Date.now() - since} ms into the outage (the cache lives ${CLIENT_CACHE_MS} ms)`,
    )
  }

  const assertBack = async (t: Tap, when: string) => {
    const began = Date.now()
    const ready = await until(`${when}: /readyz answers 200 again`, RESUME_WITHIN, async () => {
      const a = await call(server.url, '/readyz').catch(() => undefined)
      return a?.status === 200 ? a : undefined
    })
    t.comment(`${when}: ready again ${Date.now() - began} ms after Postgres accepted connections`)
    t.match(ready.body, { status: 'ok', database: 'postgres' })
    t.equal(server.pid, pid, `${when}: the same process (no restart of Tessera)`)
    t.ok(server.running(), `${when}: still running`)
    t.equal(server.logs().filter((l) => l.msg === 'tessera ready').length, 1, `${when}: it started once`)
  }

  await t.test('Postgres stops (fast shutdown): every database route is 503 within 2 s; the process and the JWKS stay up', async (t) => {
    await cluster.stop('fast')
    const since = Date.now()
    await assertDown(t, 'just stopped', true)
    await cacheExpires(t, since)
    // The background work (the key-ring poll) fails too, and must neither crash the process nor
    // drop the keys it holds; the routes keep answering 503, not 500.
    await server.line('the key-ring poll meets the outage', (l) => l.includes('key ring refresh failed'), 10_000)
    await assertDown(t, 'after the client cache expired and a background poll failed')
    t.equal(server.logs().filter((l) => l.msg === 'unhandled error').length, 0, 'no request ended as an unhandled error (500)')
  })

  await t.test('Postgres starts again on the same port and data: the same process serves again, and nothing was lost', async (t) => {
    await cluster.start()
    await assertBack(t, 'after the fast shutdown')
    const again = await signIn(user)
    t.equal(again.status, 200, 'the user made before the outage signs in')
    t.equal(claims(again.body.access_token).sub, user.id)
    const viaHttp = await signIn({ email: signedUp.body.email, password: 'another good passphrase' })
    t.equal(viaHttp.status, 200, 'the user who signed up before the outage signs in')
    const next = await refresh(rotated.body.refresh_token)
    t.equal(next.status, 200, 'the refresh token issued before the outage (and presented during it) refreshes: nothing was spent')
    t.equal(claims(next.body.refresh_token).sid, claims(first.body.refresh_token).sid, 'in the same family')
    t.equal((await refresh(untouched.body.refresh_token)).status, 200, 'the other family refreshes too')
    t.equal((await introspect(rotated.body.access_token)).body.active, true, 'an access token issued before the outage is still active')
    t.equal((await introspect(cc.body.access_token)).body.active, true, 'and the client_credentials one')
    const profile = await me(next.body.access_token)
    t.equal(profile.status, 200, '/me')
    t.equal(profile.body.email, user.email)
    t.equal((await token({ grant_type: 'client_credentials' })).status, 200, 'the client made before the outage authenticates')
    t.equal((await signUp(laterEmail)).status, 201, 'the sign-up refused during the outage had stored nothing: it succeeds now')
  })

  await t.test('a second outage, as a crash of the database server (immediate shutdown), and back', async (t) => {
    const before = await signIn(user)
    t.equal(before.status, 200)
    await cluster.stop('immediate')
    const since = Date.now()
    await assertDown(t, 'after an immediate shutdown', true)
    await cacheExpires(t, since)
    await assertDown(t, 'immediate shutdown, the client cache expired')
    await cluster.start()
    await assertBack(t, 'after the immediate shutdown')
    t.equal((await refresh(before.body.refresh_token)).status, 200, 'a family started just before the crash refreshes')
    t.equal((await signIn(user)).status, 200, 'sign-in works')
  })

  t.same(await server.stop(15_000), { code: 0, signal: null }, 'SIGTERM: exits 0')
  t.equal(server.logs().filter((l) => l.msg === 'unhandled error').length, 0, 'no 500 in the whole run')
})
