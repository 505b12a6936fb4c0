// A crash and a graceful stop of a real server process (docs/tokens.md#rotation,
// docs/errors.md#unavailable, docs/tokens.md#refresh-families).
//
// 1. `kill -9` in the middle of concurrent refresh load: many families, each refreshed in a
//    tight loop by its own client (the clients run side by side, each one sequential, as one
//    device refreshes its own session), some clients done and idle before the kill, the others
//    with a request in flight. A new process on the same database then starts with no manual
//    step, and the database and the HTTP answers show that every family is in a state its
//    client's history explains, with at most one usable refresh token, and no account lost.
// 2. SIGTERM with many slow requests (password sign-ins: argon2) in flight: each one gets its
//    answer, new connections are refused or get 503, and the process exits 0 before
//    SHUTDOWN_TIMEOUT.
//
// Processes are started and killed by PID (test/helpers/process.ts); every wait is for a
// condition, bounded.
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import pg from 'pg'
import t, { type Test } from 'tap'
import { createPostgresDatabase } from '../helpers/db.js'
import { readyJwks, type Server, scratch, serverCommand, startServer } from '../helpers/process.js'
import { type Answer, call, claims, createClient, createUser, migrateDatabase, type RemoteUser } from '../helpers/remote.js'
import { until, within } from '../helpers/wait.js'

t.comment(`server under test: ${serverCommand().what}`)

const ISSUER = 'http://tessera.test'
/** Families refreshed until the kill: each has a request in flight when it comes. */
const BUSY = 24
/** Families whose client stops after IDLE_ROUNDS rotations, well before the kill: idle at it. */
const IDLE = 8
const IDLE_ROUNDS = 10
/** The kill comes once every busy family has been rotated at least this often. */
const BUSY_ROUNDS = 25
const SHUTDOWN_TIMEOUT_S = 20

/** One client's view of its family: every refresh token it received, in order (0: the sign-in's). */
interface Chain {
  busy: boolean
  sid: string
  tokens: string[]
  /** A request presenting the newest token is out and unanswered. */
  inFlight: boolean
  /** Its last request got no answer (a connection reset by the kill, or refused after it). */
  lost: boolean
  /** Any answer other than 200 during the load (there must be none). */
  refused: Answer[]
}

const jti = (jwt: string) => claims(jwt).jti as string

interface FamilyRow {
  id: string
  current_jti: string
  previous_jti: string | null
  generation: number
  revoked_at: Date | null
  revoked_reason: string | null
}

t.test('kill -9 under concurrent refresh load, then a restart on the same database', async (t) => {
  const databaseUrl = await createPostgresDatabase(t)
  const dir = scratch(t, 'tessera-crash-')
  const where = { cwd: dir, env: { DATABASE_URL: databaseUrl, ISSUER } }
  await migrateDatabase(where)
  const client = await createClient(where)
  const users: RemoteUser[] = []
  for (let i = 0; i < 4; i++) users.push(await createUser(where))
  const sql = new pg.Client(databaseUrl)
  await sql.connect()
  t.teardown(() => sql.end())

  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ISSUER,
    REFRESH_REUSE_LEEWAY: '0',
    RATE_LIMIT_TOKEN: '0',
    LOCKOUT_THRESHOLD: '0',
    SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_S}s`,
  }
  const first = await startServer(t, dir, env, 'tessera-1')
  await readyJwks(first)
  const port = new URL(first.url).port

  const tokenAt = (server: Server, form: Record<string, string>) => call(server.url, '/token', { form, authorization: client.authorization, timeoutMs: 30_000 })

  // Sign-ins: one family each, spread over the users.
  const chains: Chain[] = []
  for (let i = 0; i < BUSY + IDLE; i++) {
    const user = users[i % users.length]!
    const a = await tokenAt(first, { grant_type: 'password', username: user.email, password: user.password, scope: 'read' })
    if (a.status !== 200) throw new Error(`sign-in failed: ${a.status} ${JSON.stringify(a.body)}`)
    chains.push({ busy: i < BUSY, sid: claims(a.body.refresh_token).sid, tokens: [a.body.refresh_token], inFlight: false, lost: false, refused: [] })
  }

  const refreshLoop = async (c: Chain) => {
    for (let round = 0; c.busy || round < IDLE_ROUNDS; round++) {
      c.inFlight = true
      let a: Answer
      try {
        a = await tokenAt(first, { grant_type: 'refresh_token', refresh_token: c.tokens.at(-1)! })
      } catch {
        c.lost = true
        return
      } finally {
        c.inFlight = false
      }
      if (a.status !== 200) {
        c.refused.push(a)
        return
      }
      c.tokens.push(a.body.refresh_token)
    }
  }
  const began = Date.now()
  const loops = Promise.all(chains.map(refreshLoop))

  // The kill: inside the load, once the idle clients are done and every busy one has rotated
  // its family often enough. Nothing is awaited between the check and the signal.
  await until(
    'the idle clients are done and every busy family has been rotated often enough',
    60_000,
    () => {
      if (chains.some((c) => c.refused.length > 0))
        throw new Error(`a refresh was refused during the load: ${JSON.stringify(chains.find((c) => c.refused.length)!.refused[0]!.body)}`)
      return chains.every((c) => (c.busy ? c.tokens.length > BUSY_ROUNDS : !c.inFlight && c.tokens.length === IDLE_ROUNDS + 1))
    },
    20,
  )
  const inFlightAtKill = chains.filter((c) => c.inFlight).length
  first.signal('SIGKILL')
  const loadMs = Date.now() - began
  t.same(await first.exit(10_000), { code: null, signal: 'SIGKILL' }, 'the server died of SIGKILL')
  t.equal(
    await within(
      loops.then(() => true),
      30_000,
    ),
    true,
    'every client loop ends (its request failed or was answered)',
  )
  // A statement the dead process had sent may still be running in its backend: the state is
  // final once Postgres has noticed and ended every connection of that process.
  await until('the dead process has no connection left in Postgres', 30_000, async () => {
    const r = await sql.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
    return r.rows[0]!.n === '0'
  })
  const rotations = chains.reduce((n, c) => n + c.tokens.length - 1, 0)
  t.comment(`${rotations} rotations in ${loadMs} ms over ${chains.length} families; ${inFlightAtKill} requests in flight at the kill`)
  t.ok(inFlightAtKill >= 1, 'the kill came with requests in flight')
  t.same(
    chains.flatMap((c) => c.refused.map((a) => a.body)),
    [],
    'no refresh was refused during the load',
  )
  t.ok(
    chains.filter((c) => !c.busy).every((c) => !c.lost && c.tokens.length === IDLE_ROUNDS + 1),
    'the idle clients had all their answers before the kill',
  )

  // THE INVARIANT. For a family whose client received T0 … Tn (T0 from the sign-in; every
  // request presents the newest token it holds), the database holds exactly one of:
  //   (a) `caught up`: generation n, current_jti = jti(Tn), previous_jti = jti(Tn-1): Tn is the
  //       family's one usable refresh token;
  //   (b) `answer lost`, only for a client whose last request (presenting Tn) got no answer:
  //       generation n+1, previous_jti = jti(Tn), current_jti a jti no client ever received.
  //       The rotation's one UPDATE committed and the process died before the answer left.
  //       Tn is spent, and the family's usable token is one nobody holds. With
  //       REFRESH_REUSE_LEEWAY=0 the client's retry with Tn is reuse: the family is revoked
  //       (reuse_detected) and its user signs in again. That is the contract, not a loss: the
  //       server cannot tell a lost answer from a stolen token (a leeway would hand the lost
  //       successor back instead).
  // So the brief's "current_jti is a token some client received" holds for (a) only; what can
  // never happen is anything else: a family rotated past what its client presented, a current
  // token older than Tn, previous_jti out of step, a family revoked by the crash, a half-written
  // row, or two usable tokens. An idle client (answered, nothing in flight) is always (a).
  const rows = new Map(
    (
      await sql.query<FamilyRow>(
        'SELECT id, current_jti, previous_jti, generation, revoked_at, revoked_reason FROM refresh_families WHERE id = ANY($1::uuid[])',
        [chains.map((c) => c.sid)],
      )
    ).rows.map((r) => [r.id, r]),
  )
  t.equal(rows.size, chains.length, 'every family is in the database')
  const state = (c: Chain): 'caught up' | 'answer lost' | 'inconsistent' => {
    const r = rows.get(c.sid)
    if (!r || r.revoked_at !== null) return 'inconsistent'
    const n = c.tokens.length - 1
    const received = new Set(c.tokens.map(jti))
    const last = jti(c.tokens[n]!)
    if (r.generation === n && r.current_jti === last && (n === 0 ? r.previous_jti === null : r.previous_jti === jti(c.tokens[n - 1]!))) return 'caught up'
    if (c.lost && r.generation === n + 1 && r.previous_jti === last && !received.has(r.current_jti)) return 'answer lost'
    return 'inconsistent'
  }
  const states = new Map(chains.map((c) => [c, state(c)]))
  const inconsistent = chains.filter((c) => states.get(c) === 'inconsistent')
  t.same(
    inconsistent.map((c) => ({ sid: c.sid, received: c.tokens.length - 1, lost: c.lost, row: rows.get(c.sid) })),
    [],
    'every family is caught up, or one rotation ahead of a client whose answer was lost',
  )
  t.ok(
    chains.filter((c) => !c.busy).every((c) => states.get(c) === 'caught up'),
    'every idle client holds its family’s current token',
  )
  const lostAnswers = chains.filter((c) => states.get(c) === 'answer lost')
  t.comment(`${chains.length - lostAnswers.length} families caught up, ${lostAnswers.length} one rotation ahead of their client (answer lost in the crash)`)

  const accountsBefore = users.length
  const [{ n: usersInDb }] = (await sql.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows as [{ n: string }]
  t.equal(Number(usersInDb), accountsBefore, 'no account lost')

  // The restart: the same command, environment, database and port; nothing done by hand.
  const second = await startServer(t, dir, { ...env, PORT: port, LOG_LEVEL: 'info' }, 'tessera-2')
  await readyJwks(second)
  const ready = await call(second.url, '/readyz')
  t.equal(ready.status, 200, 'the restarted server is ready, with no manual step')

  await t.test('from outside: at most one usable refresh token per family, and it is the one the state says', async (t) => {
    const introspections = chains.flatMap((c) => c.tokens.map((tok, i) => ({ c, i, tok })))
    const active = new Map<Chain, number[]>(chains.map((c) => [c, []]))
    // Sixteen at a time: a few hundred introspections in a second or two.
    for (let k = 0; k < introspections.length; k += 16) {
      const batch = introspections.slice(k, k + 16)
      const answers = await Promise.all(
        batch.map(({ tok }) => call(second.url, '/introspect', { form: { token: tok }, authorization: client.authorization, timeoutMs: 30_000 })),
      )
      answers.forEach((a, j) => {
        if (a.status !== 200) throw new Error(`introspect: ${a.status} ${JSON.stringify(a.body)}`)
        if (a.body.active === true) active.get(batch[j]!.c)!.push(batch[j]!.i)
      })
    }
    t.comment(`${introspections.length} refresh tokens introspected`)
    t.ok(
      chains.every((c) => active.get(c)!.length <= 1),
      'no family has two active refresh tokens',
    )
    t.same(
      chains.filter((c) => states.get(c) === 'caught up' && active.get(c)!.join() !== String(c.tokens.length - 1)).map((c) => c.sid),
      [],
      'a caught-up family: exactly its newest received token is active',
    )
    t.same(
      lostAnswers.filter((c) => active.get(c)!.length !== 0).map((c) => c.sid),
      [],
      'a family whose answer was lost: none of the tokens its client holds is active',
    )
  })

  await t.test('every client carries on with its newest token: a caught-up family refreshes, a lost answer is reuse', async (t) => {
    const answers = await Promise.all(chains.map((c) => tokenAt(second, { grant_type: 'refresh_token', refresh_token: c.tokens.at(-1)! })))
    chains.forEach((c, i) => {
      const a = answers[i]!
      if (states.get(c) === 'caught up') {
        t.equal(a.status, 200, `${c.sid}: refreshes`)
        t.equal(claims(a.body.refresh_token).sid, c.sid, `${c.sid}: in its family`)
      } else {
        t.same(
          { status: a.status, body: a.body },
          { status: 400, body: { error: 'invalid_grant', error_description: 'The refresh token was already used; the session has been revoked.' } },
          `${c.sid}: the spent token is reuse`,
        )
      }
    })
    if (lostAnswers.length > 0) {
      const revoked = await sql.query<{ revoked_reason: string | null }>('SELECT revoked_reason FROM refresh_families WHERE id = ANY($1::uuid[])', [
        lostAnswers.map((c) => c.sid),
      ])
      t.ok(
        revoked.rows.every((r) => r.revoked_reason === 'reuse_detected'),
        'and revokes the family (reuse_detected)',
      )
    }
  })

  await t.test('no account lost: every user signs in on the restarted server', async (t) => {
    for (const user of users) {
      const a = await tokenAt(second, { grant_type: 'password', username: user.email, password: user.password })
      t.equal(a.status, 200, `${user.email} signs in`)
      t.equal(claims(a.body.access_token).sub, user.id)
    }
  })

  await t.test('SIGTERM drains the sign-ins in flight, refuses new work, exits 0 before SHUTDOWN_TIMEOUT', async (t) => {
    await drainsOnSigterm(t, second, users, client.authorization)
  })
})

/** A request on a connection of its own (no keep-alive pool): refused, or answered. */
function freshConnection(server: Server, path: string): Promise<{ refused: true } | { refused: false; status: number; connection?: string; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(`${server.url}${path}`, { agent: false, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ refused: false, status: res.statusCode!, body, ...(res.headers.connection ? { connection: res.headers.connection } : {}) }))
      res.on('error', () => resolve({ refused: true }))
    })
    req.on('error', () => resolve({ refused: true }))
    req.end()
  })
}

async function drainsOnSigterm(t: Test, server: Server, users: RemoteUser[], authorization: string) {
  const SLOW = 24
  // Password sign-ins: argon2 runs PASSWORD_HASH_CONCURRENCY at a time (the cores but one), so
  // two dozen at once queue up for a second or more.
  const ids = Array.from({ length: SLOW }, (_, i) => `drain-${i}-${randomBytes(4).toString('hex')}`)
  const answeredAt: number[] = []
  const requests = ids.map((id, i) => {
    const user = users[i % users.length]!
    return call(server.url, '/token', {
      form: { grant_type: 'password', username: user.email, password: user.password },
      authorization,
      headers: { 'x-request-id': id },
      timeoutMs: 60_000,
    }).then(
      (a) => {
        answeredAt.push(Date.now())
        return a
      },
      (err: Error) => ({ status: 0, body: err.message, headers: new Headers(), ms: 0 }) as Answer,
    )
  })
  const wanted = new Set(ids)
  const arrived = () => new Set(server.logs().flatMap((l) => (l.msg === 'incoming request' && wanted.has(l.reqId as string) ? [l.reqId as string] : []))).size
  await until('every slow request has reached the server', 30_000, () => arrived() === SLOW, 10)
  const answeredBefore = answeredAt.length
  const termAt = Date.now()
  server.signal('SIGTERM')
  // A request that reaches the process before its signal handler has run is simply served; the
  // drain begins with the handler, which says so (close-with-grace, src/server.ts).
  await server.line('the server begins to drain', (l) => l.includes('draining in-flight requests'), 10_000)

  // New connections while it drains: refused once it stops listening; any that still gets in is
  // a 503 `unavailable` that closes its connection.
  const probes: Awaited<ReturnType<typeof freshConnection>>[] = []
  await until(
    'new connections are refused',
    SHUTDOWN_TIMEOUT_S * 1000,
    async () => {
      const p = await freshConnection(server, '/healthz')
      probes.push(p)
      return p.refused
    },
    20,
  )
  const refusedAt = Date.now()
  const served = probes.filter((p) => !p.refused)
  t.same(
    served.filter((p) => !(p.status === 503 && p.connection === 'close' && JSON.parse(p.body).error === 'unavailable')),
    [],
    `every new request during the drain is 503 unavailable with Connection: close (${served.length} of ${probes.length} probes got in)`,
  )

  const answers = await Promise.all(requests)
  t.same(
    answers.map((a) => a.status),
    ids.map(() => 200),
    'every request that was accepted gets its answer: 200',
  )
  t.ok(
    answers.every((a) => typeof a.body.access_token === 'string'),
    'with its tokens',
  )
  const afterTerm = answeredAt.length - answeredBefore
  t.ok(afterTerm > 0, `${afterTerm} of ${SLOW} were answered after SIGTERM: it waited for them`)
  t.ok(
    answeredAt.some((at) => at > refusedAt),
    'some after it had stopped accepting connections',
  )
  const exit = await server.exit(SHUTDOWN_TIMEOUT_S * 1000 + 5000)
  const took = Date.now() - termAt
  t.same(exit, { code: 0, signal: null }, 'then exits 0')
  t.ok(took < SHUTDOWN_TIMEOUT_S * 1000, `within SHUTDOWN_TIMEOUT (${took} ms of ${SHUTDOWN_TIMEOUT_S * 1000})`)
  t.equal(server.stderr(), '', 'nothing on stderr')
}
