// The real server as a user runs it: a child process with its own port and directories,
// judged only by what a user sees (HTTP answers, files, stderr, exit codes). Processes are
// started, waited on and stopped by PID through test/helpers/process.ts; every wait is for a
// condition (an answer, a log line, an exit), bounded.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { createPostgresDatabase } from './helpers/db.js'
import { type Exit, freePort, type Jwks, readyJwks, type Server, scratch, serverCommand, startServer } from './helpers/process.js'
import { until, within } from './helpers/wait.js'

t.comment(`server under test: ${serverCommand().what}`)
// About a dozen real starts, each loading the whole server and most opening a database.
t.setTimeout(240_000)
// The stories are independent (own directories, databases and ports) and mostly wait on
// processes starting and stopping: two at a time.
t.jobs = 2

/** A fresh start must serve its keys within this (no configuration needed). */
const READY_WITHIN = 30_000
/** Generous bounds for everything else, so that a busy machine does not fail the suite. */
const SLOW = 60_000
const EXIT_WITHIN = 30_000

interface Teardown {
  teardown(fn: () => unknown): void
}

/**
 * A scratch directory (the servers' working directory too, so that nothing can land in the
 * repository); servers started in it are killed by PID at teardown if still running.
 */
function sandbox(t: Teardown) {
  const dir = scratch(t, 'tessera-server-')
  return { dir, start: (env: Record<string, string>) => startServer(t, dir, env) }
}

const jwksOf = (server: Server, ms = SLOW) => readyJwks(server, ms)
/** SIGTERM, then the exit (SIGKILL if it does not come within EXIT_WITHIN: then `signal` says so). */
const stop = (server: Server) => server.stop(EXIT_WITHIN)

const kidsOf = (jwks: Jwks) => jwks.keys.map((k) => k.kid).sort()
const lines = (text: string) => text.split('\n').filter((l) => l !== '')
const failed = (exit: Exit | undefined) => exit !== undefined && exit.signal === null && exit.code !== null && exit.code !== 0

async function storedKids(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client(databaseUrl)
  await client.connect()
  try {
    return (await client.query<{ kid: string }>('SELECT kid FROM signing_keys ORDER BY kid')).rows.map((r) => r.kid)
  } finally {
    await client.end()
  }
}

/** Two RSA signing keys, as a fresh start makes (`active` and `next`). */
function assertFreshRing(t: Tap, jwks: Jwks) {
  t.equal(jwks.keys.length, 2, 'two keys are published')
  for (const k of jwks.keys) t.match(k, { kty: 'RSA', alg: 'RS256', use: 'sig', kid: /^[A-Za-z0-9_-]{43}$/ })
  t.not(jwks.keys[0]!.kid, jwks.keys[1]!.kid)
}

/** The assertions these helpers use, from the root test or a subtest alike. */
type Tap = Pick<typeof t, 'equal' | 'match' | 'not' | 'ok' | 'teardown'>

// One directory's life, with as few starts as it takes (each start is seconds of CPU): a zero-
// configuration start, a second server refused while it runs, a wrong key file refused after it
// stopped, and the restart that finds the original keys.
t.test('zero configuration, embedded PGlite: one directory, one server at a time, keys kept', async (t) => {
  const box = sandbox(t)
  const env = { PGLITE_DIR: join(box.dir, 'data'), KEY_FILE: join(box.dir, 'keys', 'encryption.key') }
  const first = await box.start(env)
  const jwks = await jwksOf(first, READY_WITHIN)
  const kek = readFileSync(env.KEY_FILE, 'utf8')

  await t.test('serves keys with no configuration', async (t) => {
    assertFreshRing(t, jwks)
    const meta = (await (await fetch(`${first.url}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string }
    const port = new URL(first.url).port
    t.equal(meta.issuer, `http://localhost:${port}`, 'the default issuer is http://localhost:PORT')
    t.equal(meta.jwks_uri, `http://localhost:${port}/.well-known/jwks.json`)
    t.equal((await fetch(`${first.url}/healthz`)).status, 200, 'liveness answers')
    t.equal(statSync(env.KEY_FILE).mode & 0o777, 0o600, 'the generated key file is readable by its owner only')
    t.match(kek, /^[0-9a-f]{64}\n$/, 'it holds a 32-byte hex key')
  })

  await t.test('a second server on the same PGLITE_DIR refuses; the first keeps serving', async (t) => {
    const second = await box.start(env)
    const exit = await within(second.closed, EXIT_WITHIN)
    t.ok(failed(exit), `the second exits non-zero (${JSON.stringify(exit)})`)
    const err = lines(second.stderr())
    t.equal(err.length, 1, 'exactly one line on stderr')
    t.match(err[0], new RegExp(`^tessera: the embedded database in .* is in use by process ${first.pid}\\b.*DATABASE_URL`))
    t.ok(first.running(), 'the first is still running')
    t.same(await jwksOf(first), jwks, 'and still serves the same keys')
  })

  await t.test('SIGTERM exits 0', async (t) => {
    t.same(await stop(first), { code: 0, signal: null }, 'SIGTERM exits 0')
    t.equal(first.stderr(), '', 'nothing on stderr')
  })

  await t.test('a regenerated key file stops the start and never replaces the keys', async (t) => {
    writeFileSync(env.KEY_FILE, `${randomBytes(32).toString('hex')}\n`)
    const wrong = await box.start(env)
    const exit = await within(wrong.closed, EXIT_WITHIN)
    t.ok(failed(exit), `exits non-zero (${JSON.stringify(exit)})`)
    const err = lines(wrong.stderr())
    t.equal(err.length, 1, 'exactly one line on stderr')
    t.match(err[0], /^tessera: cannot decrypt signing key .*key file/)
    writeFileSync(env.KEY_FILE, kek)
  })

  await t.test('a restart with the right key file serves the original keys, and no others', async (t) => {
    const again = await box.start(env)
    t.same(kidsOf(await jwksOf(again)), kidsOf(jwks), 'a restart on the same directory serves the same kids')
    t.equal(readFileSync(env.KEY_FILE, 'utf8'), kek, 'the key file is kept, not regenerated')
    t.same(await stop(again), { code: 0, signal: null })
  })
})

// The same on Postgres: a start, a wrong KEY_ENCRYPTION_KEY refused, the restart.
t.test('zero configuration plus DATABASE_URL: keys live in Postgres, kept across a restart', async (t) => {
  const box = sandbox(t)
  const databaseUrl = await createPostgresDatabase(t)
  const env = { DATABASE_URL: databaseUrl, PGLITE_DIR: join(box.dir, 'data'), KEY_FILE: join(box.dir, 'keys', 'encryption.key') }

  const first = await box.start(env)
  const jwks = await jwksOf(first, READY_WITHIN)
  assertFreshRing(t, jwks)
  t.equal(statSync(env.KEY_FILE).mode & 0o777, 0o600, 'the generated key file is readable by its owner only')
  t.same(await storedKids(databaseUrl), kidsOf(jwks), 'the published keys are the ones in Postgres')
  t.same(await stop(first), { code: 0, signal: null }, 'SIGTERM exits 0')

  await t.test('a wrong KEY_ENCRYPTION_KEY stops the start and never replaces the keys', async (t) => {
    const wrong = await box.start({ ...env, NODE_ENV: 'production', KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') })
    const exit = await within(wrong.closed, EXIT_WITHIN)
    t.ok(failed(exit), `exits non-zero (${JSON.stringify(exit)})`)
    const err = lines(wrong.stderr())
    t.equal(err.length, 1, 'exactly one line on stderr')
    t.match(err[0], /^tessera: cannot decrypt signing key .*KEY_ENCRYPTION_KEY/)
    t.same(await storedKids(databaseUrl), kidsOf(jwks), 'the database holds only the original keys')
  })

  const second = await box.start(env)
  t.same(kidsOf(await jwksOf(second)), kidsOf(jwks), 'a restart on the same database serves the same kids')
  t.same(await storedKids(databaseUrl), kidsOf(jwks), 'no new keys were made')
  t.same(await stop(second), { code: 0, signal: null })
  t.notOk(existsSync(env.PGLITE_DIR), 'no embedded database was created')
})

t.test('a bad configuration value: non-zero exit, one line on stderr naming the variable', async (t) => {
  const box = sandbox(t)
  const pgliteDir = join(box.dir, 'data')
  const secretKey = 'not-a-key-but-secret'
  const cases: { env: Record<string, string>; name: string; shows?: string; hides?: string }[] = [
    { env: { PORT: 'eighty' }, name: 'PORT', shows: 'eighty' },
    { env: { KEY_ENCRYPTION_KEY: secretKey }, name: 'KEY_ENCRYPTION_KEY', hides: secretKey },
    { env: { DATABASE_URL: 'mysql://root:hunter2@db.internal/tessera' }, name: 'DATABASE_URL', hides: 'hunter2' },
    // Production never invents a key-encryption key, and says so before touching the database.
    { env: { NODE_ENV: 'production' }, name: 'KEY_ENCRYPTION_KEY' },
  ]
  // Independent processes: started together to keep the file fast.
  const runs = await Promise.all(
    cases.map(async (c) => {
      const server = await box.start({ PGLITE_DIR: pgliteDir, KEY_FILE: join(box.dir, 'kek'), ...c.env })
      return { c, server, exit: await within(server.closed, EXIT_WITHIN) }
    }),
  )
  for (const { c, server, exit } of runs) {
    t.ok(failed(exit), `${c.name}: exits non-zero (${JSON.stringify(exit)})`)
    const err = lines(server.stderr())
    t.equal(err.length, 1, `${c.name}: exactly one line on stderr`)
    t.match(err[0], new RegExp(`^tessera: .*\\b${c.name}\\b`), `${c.name}: the line names the variable`)
    if (c.shows) t.match(err[0], c.shows, `${c.name}: and shows the bad value`)
    if (c.hides) t.notMatch(err[0], c.hides, `${c.name}: but never echoes a secret`)
    t.equal(server.stdout(), '', `${c.name}: nothing on stdout`)
  }
  t.notOk(existsSync(pgliteDir), 'nothing was created')
})

t.test('an unreachable DATABASE_URL: non-zero exit with one clear line, quickly', async (t) => {
  const box = sandbox(t)
  const closedPort = await freePort()
  const began = Date.now()
  const server = await box.start({ DATABASE_URL: `postgres://tessera:hunter2@127.0.0.1:${closedPort}/tessera`, KEY_FILE: join(box.dir, 'kek') })
  const exit = await within(server.closed, EXIT_WITHIN)
  t.ok(failed(exit), `exits non-zero (${JSON.stringify(exit)})`)
  // ECONNREFUSED is immediate: no retrying, no hanging; the time is the process starting.
  t.ok(Date.now() - began < 15_000, `within 15 s (took ${Date.now() - began} ms)`)
  const err = lines(server.stderr())
  t.equal(err.length, 1, 'exactly one line on stderr')
  t.match(err[0], /^tessera: cannot reach Postgres at postgres:\/\/tessera:\*\*\*@127\.0\.0\.1:\d+\/tessera: .*ECONNREFUSED/)
  t.notMatch(server.stderr(), 'hunter2', 'the password is not shown')
  t.notOk(existsSync(join(box.dir, 'kek')), 'no key file was made')
})

/**
 * A POST whose body arrives in two parts: Fastify answers only once the body is complete, so
 * the request is in flight for as long as the test holds the second part back. The JWKS
 * route is GET-only, so the complete request gets a 405 from the full handler chain.
 */
function slowRequest(server: Server, agent: http.Agent | false) {
  const path = '/.well-known/jwks.json'
  const req = http.request(`${server.url}${path}`, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': '2' },
  })
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    req.on('error', reject)
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      res.on('error', reject)
    })
  })
  response.catch(() => {})
  req.write('{')
  return {
    response,
    finish: () => req.end('}'),
    abort: () => req.destroy(),
    /** The server's own log line that says the request has reached it. */
    arrived: (l: string) => {
      try {
        const o = JSON.parse(l) as { msg?: string; req?: { method?: string; path?: string } }
        return o.msg === 'incoming request' && o.req?.method === 'POST' && o.req.path === path
      } catch {
        return false
      }
    },
  }
}

/** True once the port refuses new connections (the server has stopped listening). */
async function refuses(server: Server): Promise<boolean> {
  try {
    await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(1000) })
    return false
  } catch {
    return true
  }
}

async function drain(t: Tap & Teardown, agent: http.Agent | false) {
  const box = sandbox(t)
  // Postgres: no embedded database to create, and draining is the HTTP layer's business.
  const databaseUrl = await createPostgresDatabase(t)
  // LOG_LEVEL=info (the default): the access log tells when the request has arrived.
  const server = await box.start({ DATABASE_URL: databaseUrl, KEY_FILE: join(box.dir, 'kek'), LOG_LEVEL: 'info' })
  await jwksOf(server)

  const slow = slowRequest(server, agent)
  t.teardown(slow.abort)
  await server.line('the request reaches the server', slow.arrived, SLOW)

  server.signal('SIGTERM')
  await until('the server stops accepting connections', SLOW, () => refuses(server))
  t.ok(server.running(), 'it waits for the request in flight')

  slow.finish()
  const res = await within(slow.response, SLOW)
  t.equal(res?.status, 405, 'the request in flight gets its full answer')
  t.match(res && JSON.parse(res.body), { error: 'method_not_allowed' })
  return { server, res }
}

t.test('SIGTERM drains a request in flight, then exits 0 (client closes the connection)', async (t) => {
  const { server } = await drain(t, false)
  // SHUTDOWN_TIMEOUT (10 s) would end it with 1: 0 means it closed by itself once drained.
  t.same(await within(server.closed, EXIT_WITHIN), { code: 0, signal: null }, 'then exits 0')
})

t.test('SIGTERM drains a request in flight, then exits 0 (keep-alive client)', async (t) => {
  // Load balancers, fetch and Node's own agent keep connections open between requests.
  const agent = new http.Agent({ keepAlive: true })
  t.teardown(() => agent.destroy())
  const { server, res } = await drain(t, agent)
  t.equal(res?.headers.connection, 'close', 'the drained answer tells the client to go away')
  t.same(await within(server.closed, EXIT_WITHIN), { code: 0, signal: null }, 'then exits 0, not 1 at SHUTDOWN_TIMEOUT')
})
