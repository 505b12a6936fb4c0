// GET /revocations, the revocation feed (docs/tokens.md#revocation-feed, docs/endpoints.md#get-revocations): every way a
// session or an access token is revoked shows up, with the exp after which it no longer
// matters; `since` cursors give only what is new; entries leave once their tokens have expired;
// an unchanged poll is a 304 answered from memory (the database closed), and a revocation on one
// instance shows on another's feed within two seconds.
import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { encodeCursor } from '../../src/lib/cursor.js'
import { sha256 } from '../../src/lib/secrets.js'
import { openDatabase } from '../../src/stores/database.js'
import { build, eachLeg, testConfig } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { createPostgresDatabase } from '../helpers/db.js'
import { adminToken, decode, makeAdminConsole, makeClient, makeUser, post, signIn, type TestClient, token } from '../helpers/factories.js'

const TTL = 900 // ACCESS_TOKEN_TTL's default, 15 minutes

interface Feed {
  sids: { sid: string; exp: number }[]
  jtis: { jti: string; exp: number }[]
  cursor: string
}

function feed(app: App, rs: TestClient, opts: { since?: string; etag?: string; authorization?: string | null } = {}) {
  const headers: Record<string, string> = {}
  if (opts.authorization !== null) headers.authorization = opts.authorization ?? rs.basic
  if (opts.etag) headers['if-none-match'] = opts.etag
  const url = opts.since === undefined ? '/revocations' : `/revocations?since=${encodeURIComponent(opts.since)}`
  return app.inject({ method: 'GET', url, headers })
}

async function read(t: Test, app: App, rs: TestClient, since?: string): Promise<Feed> {
  const res = await feed(app, rs, since === undefined ? {} : { since })
  t.equal(res.statusCode, 200, 'the feed answers 200')
  return res.json() as Feed
}

const sidOf = (jwt: string) => decode(jwt).payload.sid as string
const bearer = (access: string) => ({ authorization: `Bearer ${access}` })

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app, db } = await build(t, leg, { clock })
  const client = await makeClient(app)
  const rs = await makeClient(app, { name: 'orders api', grantTypes: ['client_credentials'], scopes: ['read'], audience: 'orders-api' })
  const nowSeconds = () => Math.floor(clock.now() / 1000)

  t.test('no credentials, wrong ones, or a public client: 401 invalid_client', async (t) => {
    for (const [what, authorization] of [
      ['none', null],
      ['a wrong secret', `Basic ${Buffer.from(`${rs.id}:nope`).toString('base64')}`],
      ['a bearer token', 'Bearer abc'],
    ] as const) {
      const res = await feed(app, rs, { authorization })
      t.equal(res.statusCode, 401, what)
      t.equal(res.json().error, 'invalid_client', what)
    }
    const pub = await makeClient(app, { name: 'spa', public: true, grantTypes: ['refresh_token'], scopes: ['read'] })
    const res = await feed(app, pub, { authorization: `Basic ${Buffer.from(`${pub.id}:`).toString('base64')}` })
    t.equal(res.statusCode, 401, 'a public client')
    t.equal(res.json().error, 'invalid_client')
  })

  t.test('a cursor the feed did not give is a 400 invalid_request', async (t) => {
    const bad = [
      'not a cursor!',
      'abc',
      encodeCursor(['clients', 1, 1]),
      encodeCursor(['revocations', 1]),
      encodeCursor(['revocations', 'x', 1]),
      encodeCursor(['revocations', -1, 1]),
      encodeCursor(['revocations', 1, 1.5]),
      encodeCursor(['revocations', 1, clock.now() + 3_600_000]),
      'A'.repeat(600),
    ]
    for (const since of bad) {
      const res = await feed(app, rs, { since })
      t.equal(res.statusCode, 400, since.slice(0, 40))
      t.equal(res.json().error, 'invalid_request')
    }
    const unknown = await app.inject({ method: 'GET', url: '/revocations?cursor=x', headers: { authorization: rs.basic } })
    t.equal(unknown.statusCode, 400, 'an unknown parameter')
  })

  t.test('every way of revoking shows up, with the exp its tokens end by', async (t) => {
    const user = await makeUser(app)
    const expectSid = async (t: Test, sid: string, what: string) => {
      const body = await read(t, app, rs)
      t.same(
        body.sids.find((s) => s.sid === sid),
        { sid, exp: nowSeconds() + TTL },
        what,
      )
    }

    t.test('POST /revoke of a refresh token: its family', async (t) => {
      const s = await signIn(app, client, user)
      t.notOk(
        (await read(t, app, rs)).sids.some((e) => e.sid === sidOf(s.access_token)),
        'a live session is not listed',
      )
      clock.advance(1)
      t.equal((await post(app, '/revoke', client, { token: s.refresh_token! })).statusCode, 200)
      await expectSid(t, sidOf(s.access_token), 'listed')
    })

    t.test('POST /revoke of an access token: its jti, until its exp', async (t) => {
      const s = await signIn(app, client, user)
      clock.advance(1)
      t.equal((await post(app, '/revoke', client, { token: s.access_token })).statusCode, 200)
      const { jti, exp } = decode(s.access_token).payload
      t.same(
        (await read(t, app, rs)).jtis.find((e) => e.jti === jti),
        { jti, exp },
        'listed with the token’s own exp',
      )
    })

    t.test('refresh-token reuse: the family', async (t) => {
      const s = await signIn(app, client, user)
      clock.advance(1)
      t.equal((await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })).statusCode, 200)
      t.equal((await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })).statusCode, 400, 'reuse')
      await expectSid(t, sidOf(s.access_token), 'listed')
    })

    t.test('signing out of one session, then of every session', async (t) => {
      const a = await signIn(app, client, user)
      const b = await signIn(app, client, user)
      clock.advance(1)
      const one = await app.inject({ method: 'DELETE', url: `/me/sessions/${sidOf(b.access_token)}`, headers: bearer(a.access_token) })
      t.equal(one.statusCode, 204, one.body)
      await expectSid(t, sidOf(b.access_token), 'the session signed out')
      clock.advance(1)
      const all = await app.inject({ method: 'DELETE', url: '/me/sessions', headers: bearer(a.access_token) })
      t.equal(all.statusCode, 200, all.body)
      await expectSid(t, sidOf(a.access_token), 'every session')
    })

    t.test('a password change: every other session', async (t) => {
      const u = await makeUser(app)
      const here = await signIn(app, client, u)
      const other = await signIn(app, client, u)
      clock.advance(1)
      const res = await app.inject({
        method: 'POST',
        url: '/me/password',
        headers: bearer(here.access_token),
        payload: { current_password: u.password, new_password: 'another good password' },
      })
      t.equal(res.statusCode, 200, res.body)
      await expectSid(t, sidOf(other.access_token), 'the other session')
      t.notOk(
        (await read(t, app, rs)).sids.some((e) => e.sid === sidOf(here.access_token)),
        'not the one that changed it',
      )
    })

    t.test('a password reset: every session', async (t) => {
      const u = await makeUser(app)
      const s = await signIn(app, client, u)
      const reset = randomBytes(32).toString('base64url')
      await app.stores.passwordResets.replace({
        userId: u.id,
        tokenHash: sha256(reset),
        expiresAt: new Date(clock.now() + 3_600_000),
        now: new Date(clock.now()),
      })
      clock.advance(1)
      const res = await app.inject({ method: 'POST', url: '/password/reset', payload: { token: reset, password: 'a brand new password' } })
      t.equal(res.statusCode, 200, res.body)
      await expectSid(t, sidOf(s.access_token), 'listed')
    })

    t.test('an admin disables the user; an emergency key rotation', async (t) => {
      const admin = await makeUser(app, { role: 'admin' })
      const console = await makeAdminConsole(app)
      const at = await adminToken(app, console, admin)
      const u = await makeUser(app)
      const s = await signIn(app, client, u)
      clock.advance(1)
      const res = await app.inject({ method: 'PATCH', url: `/admin/users/${u.id}`, headers: bearer(at), payload: { disabled: true } })
      t.equal(res.statusCode, 200, res.body)
      await expectSid(t, sidOf(s.access_token), 'the disabled user’s session')

      const s2 = await signIn(app, client, user)
      clock.advance(1)
      const rotate = await app.inject({ method: 'POST', url: '/admin/keys/rotate', headers: bearer(at), payload: { now: true } })
      t.equal(rotate.statusCode, 200, rotate.body)
      await expectSid(t, sidOf(s2.access_token), 'a session whose refresh token the compromised key signed')
    })

    t.test('consent withdrawn, and a browser session’s logout (their store paths)', async (t) => {
      const u = await makeUser(app)
      const s = await signIn(app, client, u)
      await app.stores.consents.grant(u.id, client.id, ['read'], new Date(clock.now()))
      clock.advance(1)
      const res = await app.inject({ method: 'DELETE', url: `/me/consents/${client.id}`, headers: bearer(s.access_token) })
      t.equal(res.statusCode, 200, res.body)
      await expectSid(t, sidOf(s.access_token), 'consent withdrawn')

      const s2 = await signIn(app, client, u)
      await db.query('UPDATE refresh_families SET session_id = $2 WHERE id = $1::uuid', [sidOf(s2.access_token), 'browser-session'])
      clock.advance(1)
      t.same(await app.stores.families.revokeAllOfSession('browser-session', 'logout', new Date(clock.now())), [sidOf(s2.access_token)])
      await expectSid(t, sidOf(s2.access_token), 'logout')
    })

    t.test('a client deleted: its sessions stay listed once their rows are gone', async (t) => {
      const admin = await makeUser(app, { role: 'admin' })
      const at = await adminToken(app, await makeAdminConsole(app), admin)
      const doomed = await makeClient(app, { name: 'doomed' })
      const earlier = await signIn(app, doomed, user)
      t.equal((await post(app, '/revoke', doomed, { token: earlier.refresh_token! })).statusCode, 200)
      const revokedAt = nowSeconds()
      const live = await signIn(app, doomed, user)
      clock.advance(5)
      const res = await app.inject({ method: 'DELETE', url: `/admin/clients/${doomed.id}`, headers: bearer(at) })
      t.equal(res.statusCode, 200, res.body)
      const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM refresh_families WHERE client_id = $1', [doomed.id])) as [{ n: number }]
      t.equal(n, 0, 'its families are deleted')
      const body = await read(t, app, rs)
      t.same(
        body.sids.find((e) => e.sid === sidOf(live.access_token)),
        { sid: sidOf(live.access_token), exp: nowSeconds() + TTL },
        'the live session, revoked now',
      )
      t.same(
        body.sids.find((e) => e.sid === sidOf(earlier.access_token)),
        { sid: sidOf(earlier.access_token), exp: revokedAt + TTL },
        'the one revoked before, with its own exp',
      )
      clock.advance(TTL + 2)
      t.equal((await app.maintenance.purge()) > 0, true, 'the retention job runs')
      const [{ kept }] = (await db.query<{ kept: number }>('SELECT count(*)::int AS kept FROM revoked_sessions')) as [{ kept: number }]
      t.equal(kept, 0, 'and forgets them once their tokens have expired')
    })
  })

  t.test('since: only what was revoked after the cursor; then nothing', async (t) => {
    clock.advance(TTL + 60) // everything revoked above has expired
    const user = await makeUser(app)
    const first = await signIn(app, client, user)
    await post(app, '/revoke', client, { token: first.refresh_token! })
    clock.advance(30)
    const all = await read(t, app, rs)
    t.same(
      all.sids.map((e) => e.sid),
      [sidOf(first.access_token)],
      'the whole feed: only what has not expired',
    )
    t.same(all.jtis, [])
    const second = await signIn(app, client, user)
    await post(app, '/revoke', client, { token: second.refresh_token! })
    await post(app, '/revoke', client, { token: second.access_token })
    clock.advance(30)
    const news = await read(t, app, rs, all.cursor)
    t.same(
      news.sids.map((e) => e.sid),
      [sidOf(second.access_token)],
      'only the new session',
    )
    t.same(
      news.jtis.map((e) => e.jti),
      [decode(second.access_token).payload.jti],
      'and the new jti',
    )
    t.not(news.cursor, all.cursor, 'the cursor moves on')
    t.same(await read(t, app, rs, news.cursor), { sids: [], jtis: [], cursor: news.cursor }, 'nothing after the newest cursor')

    // A cursor given less than FEED_OVERLAP_MS after a revocation lists it once more: one that
    // was written a moment earlier but committed later is never missed.
    const third = await signIn(app, client, user)
    await post(app, '/revoke', client, { token: third.refresh_token! })
    const soon = await read(t, app, rs, news.cursor)
    t.same(
      soon.sids.map((e) => e.sid),
      [sidOf(third.access_token)],
    )
    clock.advance(5)
    t.same(
      (await read(t, app, rs, soon.cursor)).sids.map((e) => e.sid),
      [sidOf(third.access_token)],
      'a cursor given within 10 s of a revocation lists it again',
    )
  })

  t.test('an entry leaves the feed once every token it affects has expired', async (t) => {
    clock.advance(TTL + 60)
    const user = await makeUser(app)
    const s = await signIn(app, client, user)
    clock.advance(100)
    await post(app, '/revoke', client, { token: s.refresh_token! })
    await post(app, '/revoke', client, { token: s.access_token })
    const { jti, exp } = decode(s.access_token).payload as { jti: string; exp: number }
    clock.advance(TTL - 100 - 1) // one second before the access token's exp
    let body = await read(t, app, rs)
    t.same(body.jtis, [{ jti, exp }], 'the jti, until its exp')
    t.equal(body.sids.length, 1, 'the family')
    clock.advance(1)
    body = await read(t, app, rs)
    t.same(body.jtis, [], 'the jti is gone at its exp')
    t.equal(body.sids.length, 1, 'the family stays: it was revoked 100 s later, a token of it may still live')
    clock.advance(99)
    t.equal((await read(t, app, rs)).sids.length, 1, 'a second before')
    clock.advance(1)
    t.same((await read(t, app, rs)).sids, [], 'gone ACCESS_TOKEN_TTL after its revocation')
  })

  t.test('ETag and 304; a revocation here changes it at once', async (t) => {
    const first = await feed(app, rs)
    const etag = first.headers.etag as string
    t.match(etag, /^W\/".+"$/, 'a weak ETag')
    const again = await feed(app, rs, { etag, since: first.json().cursor })
    t.equal(again.statusCode, 304, 'unchanged: 304')
    t.equal(again.body, '', 'with no body')
    t.equal(again.headers.etag, etag)
    t.equal((await feed(app, rs, { etag: `"x", ${etag}` })).statusCode, 304, 'one of a list')
    t.equal((await feed(app, rs, { etag: '"something else"' })).statusCode, 200, 'another ETag: 200')

    const s = await signIn(app, client, await makeUser(app))
    await post(app, '/revoke', client, { token: s.refresh_token! })
    const changed = await feed(app, rs, { etag, since: first.json().cursor })
    t.equal(changed.statusCode, 200, 'after a revocation, the old ETag gets the news at once')
    t.not(changed.headers.etag, etag)
    t.ok((changed.json() as Feed).sids.some((e) => e.sid === sidOf(s.access_token)))
  })

  t.test('a 304 needs no database: answered with the database closed', async (t) => {
    const first = await feed(app, rs)
    const etag = first.headers.etag as string
    await app.revocationFeed.refresh()
    t.equal((await feed(app, rs, { etag })).statusCode, 304, 'before')
    await db.close()
    const res = await feed(app, rs, { etag, since: first.json().cursor })
    t.equal(res.statusCode, 304, 'a 304 with the database closed')
    const full = await feed(app, rs)
    t.equal(full.statusCode, 503, 'while anything that reads it fails')
  })
})

t.test('two instances on one Postgres: a revocation on one shows on the other’s feed within 2 s', async (t) => {
  const databaseUrl = await createPostgresDatabase(t)
  const config = testConfig({ KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') })
  const dbA = await openDatabase({ databaseUrl, pgliteDir: 'memory://' })
  t.teardown(() => dbA.close())
  const { app: a } = await build(t, 'postgres', { db: dbA, config })
  const dbB = await openDatabase({ databaseUrl, pgliteDir: 'memory://' })
  t.teardown(() => dbB.close())
  const { app: b } = await build(t, 'postgres', { db: dbB, config })

  const client = await makeClient(a)
  const rs = await makeClient(a, { name: 'orders api', grantTypes: ['client_credentials'], scopes: ['read'], audience: 'orders-api' })
  const before = await feed(b, rs)
  const etag = before.headers.etag as string
  const { cursor } = before.json() as Feed
  t.equal((await feed(b, rs, { etag, since: cursor })).statusCode, 304, 'B: nothing new')

  const s = await signIn(a, client, await makeUser(a))
  await post(a, '/revoke', client, { token: s.refresh_token! })
  const revokedAt = Date.now()
  let seenAfter: number | undefined
  while (Date.now() - revokedAt < 5000) {
    const res = await feed(b, rs, { etag, since: cursor })
    if (res.statusCode === 200 && (res.json() as Feed).sids.some((e) => e.sid === sidOf(s.access_token))) {
      seenAfter = Date.now() - revokedAt
      break
    }
    t.equal(res.statusCode, 304, 'B answers 304 until it learns of it')
    await new Promise((r) => setTimeout(r, 50))
  }
  t.ok(seenAfter !== undefined && seenAfter < 2000, `B lists A’s revocation within 2 s (after ${seenAfter} ms)`)
})
