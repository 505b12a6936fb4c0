// Issue 4, "Done means" 2: two Tessera server PROCESSES on one real Postgres database (same
// KEY_ENCRYPTION_KEY, same ISSUER as behind a load balancer, KEY_RING_POLL=1).
//   1. A rotation through one instance's admin API reaches the other within 5 s: it serves the
//      new JWKS and signs with the new key; an emergency rotation through the other drops the
//      old key on the first just as fast.
//   2. Scheduled rotation (KEY_ROTATION_INTERVAL=3s) with both running rotates exactly once per
//      interval: the `key.rotated` audit events of a bounded window are counted, spaced and
//      chained (each promotes the `next` key the previous one published: no instance rotated twice).
// The two scenarios have their own databases and run side by side (t.jobs = 2).
// Processes are started and killed by PID (test/helpers/process.ts); every wait is bounded.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { openDatabase } from '../../src/stores/database.js'
import { build, testConfig } from '../helpers/build.js'
import { createPostgresDatabase } from '../helpers/db.js'
import { decode, makeAdminConsole, makeClient, makeUser, type TestClient } from '../helpers/factories.js'
import { readyJwks, type Server, scratch, serverCommand, startServer } from '../helpers/process.js'
import { until, untilTime } from '../helpers/wait.js'

const ISSUER = 'http://tessera.test'
/** docs/keys.md#multi-instance: another instance picks up a changed ring within this. */
const PICKUP = 5000
const INTERVAL = 3
const POLL = 1

t.setTimeout(120_000)

const kidsOf = (jwks: { keys: { kid: string }[] }) => jwks.keys.map((k) => k.kid)

// The two scenarios use separate databases and run side by side: the file mostly waits.
t.jobs = 2
t.comment(`servers under test: ${serverCommand().what}`)

/** Servers started in one scratch directory (each its own key file); killed by PID at teardown. */
function processes(t: { teardown(fn: () => unknown): void }) {
  const dir = scratch(t, 'tessera-keys-')
  return { start: (name: string, env: Record<string, string>) => startServer(t, dir, { KEY_FILE: join(dir, `${name}.kek`), ...env }, name) }
}

/** Server settings shared by every instance of a scenario. */
const serverEnv = (databaseUrl: string, kek: string, extra: Record<string, string>) => ({
  NODE_ENV: 'production',
  LOG_LEVEL: 'info',
  DATABASE_URL: databaseUrl,
  KEY_ENCRYPTION_KEY: kek,
  ISSUER,
  KEY_RING_POLL: String(POLL),
  ...extra,
})

const jwksOf = async (server: Server) => {
  const res = await fetch(`${server.url}/.well-known/jwks.json`, { signal: AbortSignal.timeout(5000) })
  return { kids: kidsOf((await res.json()) as { keys: { kid: string }[] }), etag: res.headers.get('etag') }
}

t.test('a rotation through one instance reaches the other within 5 s', { buffered: true }, async (t) => {
  const databaseUrl = await createPostgresDatabase(t)
  const kek = randomBytes(32).toString('hex')
  const box = processes(t)

  // The admin, a user and a client, made through an in-process app on the same database (which
  // also migrates it and makes the first keys). It never polls; the processes do the work.
  const db = await openDatabase({ databaseUrl, pgliteDir: 'memory://' })
  t.teardown(() => db.close())
  const { app } = await build(t, 'postgres', { db, config: testConfig({ KEY_ENCRYPTION_KEY: kek, ISSUER }) })
  const client = await makeClient(app)
  // The admin API takes only tokens of its own client (audience and scope), not everyday ones.
  const adminConsole = await makeAdminConsole(app)
  const admin = await makeUser(app, { role: 'admin' })
  const user = await makeUser(app)

  const form = async (server: Server, path: string, params: Record<string, string>, as: TestClient = client) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: as.basic },
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(5000),
    })
  const accessToken = async (server: Server, who: { email: string; password: string } | 'client' = 'client') => {
    const params: Record<string, string> =
      who === 'client'
        ? { grant_type: 'client_credentials', scope: 'read' }
        : { grant_type: 'password', username: who.email, password: who.password, scope: 'openid read' }
    const res = await form(server, '/token', params)
    if (res.status !== 200) throw new Error(`${server.name}: token request failed: ${res.status} ${await res.text()}`)
    return ((await res.json()) as { access_token: string }).access_token
  }
  const kidOf = (jwt: string) => decode(jwt).header.kid as string
  const adminPost = async (server: Server, path: string, body?: object) => {
    const token = await form(server, '/token', { grant_type: 'password', username: admin.email, password: admin.password, scope: 'admin' }, adminConsole)
    if (token.status !== 200) throw new Error(`${server.name}: admin token request failed: ${token.status} ${await token.text()}`)
    const bearer = ((await token.json()) as { access_token: string }).access_token
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  const settings = serverEnv(databaseUrl, kek, { KEY_PREPUBLISH: '1s', JWKS_MAX_AGE: '1' })
  const [a, b] = await Promise.all([box.start('A', settings), box.start('B', settings)])
  const [ja, jb] = await Promise.all([readyJwks(a), readyJwks(b)])
  t.same(kidsOf(jb).sort(), kidsOf(ja).sort(), 'both serve the same key ring')
  const first = kidOf(await accessToken(b))
  t.equal(kidOf(await accessToken(a)), first, 'and sign with the same key')
  const etagBefore = (await jwksOf(b)).etag

  // Planned rotation through A (the next key is older than KEY_PREPUBLISH=1s by now).
  const planned = await until(
    'A accepts a planned rotation',
    10_000,
    async () => {
      const r = await adminPost(a, '/admin/keys/rotate')
      return r.status === 200 ? r.body : undefined
    },
    500,
  )
  t.match(planned, { previous: first, emergency: false })
  const rotatedAt = Date.now()
  t.equal(kidOf(await accessToken(a)), planned.active, 'A signs with the promoted key at once')

  const seen = await until('B serves the new ring and signs with the new key', PICKUP + 5000, async () => {
    const [jwks, kid] = await Promise.all([jwksOf(b), accessToken(b).then(kidOf)])
    return jwks.kids.includes(planned.next as string) && kid === planned.active ? { jwks, kid, after: Date.now() - rotatedAt } : undefined
  })
  t.ok(seen.after <= PICKUP, `B picked the rotation up in ${seen.after} ms (at most ${PICKUP})`)
  t.same(seen.jwks.kids.sort(), [planned.active, planned.next, first].sort(), 'B publishes active, next and the retiring key')
  t.not(seen.jwks.etag, etagBefore, "B's JWKS ETag changed with the ring")
  t.equal((await jwksOf(b)).etag, (await jwksOf(a)).etag, 'both serve the same bytes')

  // Emergency rotation the other way round: through B; A must drop the old key as fast.
  const victim = await accessToken(a, user)
  t.equal(kidOf(victim), planned.active)
  const emergency = await adminPost(b, '/admin/keys/rotate', { now: true })
  t.equal(emergency.status, 200)
  t.match(emergency.body, { previous: planned.active, active: planned.next, emergency: true })
  const droppedAt = Date.now()
  const dropped = await until('A drops the compromised key', PICKUP + 5000, async () => {
    const [jwks, kid, introspection] = await Promise.all([
      jwksOf(a),
      accessToken(a).then(kidOf),
      form(a, '/introspect', { token: victim }).then((r) => r.json() as Promise<{ active: boolean }>),
    ])
    return !jwks.kids.includes(planned.active as string) && kid === planned.next && !introspection.active ? Date.now() - droppedAt : undefined
  })
  t.ok(dropped <= PICKUP, `A stopped publishing and accepting the compromised key in ${dropped} ms`)

  t.same(
    await Promise.all([a.stop(), b.stop()]),
    [
      { code: 0, signal: null },
      { code: 0, signal: null },
    ],
    'both exit 0 on SIGTERM',
  )
  t.equal(a.stderr() + b.stderr(), '', 'nothing on stderr')
})

t.test('scheduled rotation with both instances running rotates exactly once per interval', { buffered: true }, async (t) => {
  // KEY_PREPUBLISH ≥ JWKS_MAX_AGE and KEY_ROTATION_INTERVAL ≥ KEY_PREPUBLISH (config rules).
  // Its own database, empty: the two instances migrate it and make the first keys themselves,
  // each under a cluster-wide lock.
  const databaseUrl = await createPostgresDatabase(t)
  const box = processes(t)
  const sql = new pg.Client(databaseUrl)
  await sql.connect()
  t.teardown(() => sql.end())
  const settings = serverEnv(databaseUrl, randomBytes(32).toString('hex'), { KEY_ROTATION_INTERVAL: `${INTERVAL}s`, KEY_PREPUBLISH: '2s', JWKS_MAX_AGE: '1' })
  const [a, b] = await Promise.all([box.start('A', settings), box.start('B', settings)])
  await Promise.all([readyJwks(a), readyJwks(b)])
  const from = new Date()
  const WINDOW = 10 // s
  // Real time on purpose: what is counted is how often two real processes rotate on their own
  // schedule (KEY_ROTATION_INTERVAL on their clocks), so the window is a stretch of wall time.
  await untilTime(from.getTime() + WINDOW * 1000)
  const to = new Date()

  const events = (
    await sql.query<{ at: Date; details: { active: string; previous: string; next: string; emergency: boolean }; actor_id: string | null }>(
      "SELECT at, details, actor_id FROM audit_events WHERE type = 'key.rotated' AND at >= $1 AND at < $2 ORDER BY id",
      [from, to],
    )
  ).rows
  const activated = new Map(
    (await sql.query<{ kid: string; activated_at: Date }>('SELECT kid, activated_at FROM signing_keys WHERE activated_at IS NOT NULL')).rows.map((r) => [
      r.kid,
      r.activated_at.getTime(),
    ]),
  )
  const times = events.map((e) => activated.get(e.details.active)!)
  const gaps = times.slice(1).map((at, i) => (at - times[i]!) / 1000)
  t.comment(`${events.length} scheduled rotations in ${WINDOW} s, ${gaps.length ? `gaps ${gaps.map((g) => g.toFixed(2)).join(', ')} s` : 'no gaps'}`)

  // Each interval rotates once: at least once per interval plus one poll, at most once per interval.
  t.ok(events.length >= Math.floor(WINDOW / (INTERVAL + POLL + 0.5)), `at least ${Math.floor(WINDOW / (INTERVAL + POLL + 0.5))} rotations (${events.length})`)
  t.ok(events.length <= Math.floor(WINDOW / INTERVAL) + 1, `at most ${Math.floor(WINDOW / INTERVAL) + 1} rotations (${events.length})`)
  t.ok(
    events.every((e) => e.actor_id === null && e.details.emergency === false && times.every(Number.isFinite)),
    'all are scheduled (no actor), planned rotations',
  )
  t.ok(
    gaps.every((g) => g >= INTERVAL),
    `no two within one interval (gaps ≥ ${INTERVAL} s)`,
  )
  t.ok(
    gaps.every((g) => g <= 2 * INTERVAL),
    'and none skipped an interval',
  )
  // One ring history, not two: each rotation promotes the key the one before published.
  t.ok(
    events.slice(1).every((e, i) => e.details.previous === events[i]!.details.active && e.details.active === events[i]!.details.next),
    'the rotations form one chain',
  )

  // Both keep serving one ring: their JWKS agree again within a poll of each rotation.
  await until('A and B serve the same JWKS', PICKUP, async () => {
    const [ja, jb] = await Promise.all([jwksOf(a), jwksOf(b)])
    return ja.etag === jb.etag ? true : undefined
  })
  t.pass('A and B serve the same JWKS')

  // Exactly one instance did each rotation: the log lines of both add up to the audit events.
  await Promise.all([a.stop(), b.stop()])
  const logged = [a, b].map((s) =>
    s
      .logs()
      .filter((l) => l.msg === 'scheduled key rotation')
      .map((l) => l.active as string),
  )
  const inWindow = new Set(events.map((e) => e.details.active))
  const byInstance = logged.map((kids) => kids.filter((k) => inWindow.has(k)).length)
  t.comment(`rotations in the window by A: ${byInstance[0]}, by B: ${byInstance[1]}`)
  t.equal(byInstance[0]! + byInstance[1]!, events.length, 'every rotation of the window was done by exactly one instance')
  t.equal(new Set(logged.flat()).size, logged.flat().length, 'no key was promoted twice')
  const [final] = (await sql.query<{ n: string }>("SELECT count(*) AS n FROM signing_keys WHERE state = 'active'")).rows
  t.equal(final!.n, '1', 'exactly one active key')
})
