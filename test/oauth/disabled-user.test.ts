// A disabled user (docs/endpoints.md#post-token, #admin-users): `invalid_grant` on every grant,
// with the very answer a wrong password gets, every family revoked, and every access token
// refused at once: whether an admin disabled them through the API (which revokes the
// families), or the account was disabled behind its back (the grants and the token checks are
// the backstop: they read the account's state, not only the families').
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import type { Connection } from '../../src/stores/database.js'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { adminToken, makeAdminConsole, makeClient, makeUser, post, signIn, type TestClient, token } from '../helpers/factories.js'

const NOT_SIGNED_IN = { error: 'invalid_grant', error_description: 'Invalid email or password.' }

type Session = Awaited<ReturnType<typeof signIn>>

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app, db } = await build(t, leg, { clock })
  const web = await makeClient(app)
  const mobile = await makeClient(app, { name: 'mobile' })
  const admin = await makeUser(app, { role: 'admin' })
  const bearer = await adminToken(app, await makeAdminConsole(app), admin)

  /** A user signed in three times: twice on the web (once refreshed since), once on mobile. */
  async function signedIn(t: Test) {
    const user = await makeUser(app)
    const first = await signIn(app, web, user)
    const refreshed = await token(app, web, { grant_type: 'refresh_token', refresh_token: first.refresh_token! })
    const rotated = refreshed.json() as Session
    const sessions: [string, TestClient, Session][] = [
      ['web (rotated)', web, rotated],
      ['web', web, await signIn(app, web, user)],
      ['mobile', mobile, await signIn(app, mobile, user)],
    ]
    const wrong = (await token(app, web, { grant_type: 'password', username: user.email, password: 'not the password' })).json()
    t.same(wrong, NOT_SIGNED_IN, 'what a wrong password gets')
    return { user, sessions, spent: first.refresh_token! }
  }

  t.test('disabled through PATCH /admin/users/{id}', async (t) => {
    const { user, sessions, spent } = await signedIn(t)
    const res = await app.inject({
      method: 'PATCH',
      url: `/admin/users/${user.id}`,
      headers: { authorization: `Bearer ${bearer}` },
      payload: { disabled: true },
    })
    t.equal(res.statusCode, 200)
    t.equal(res.json().disabled, true)
    await familiesRevoked(t, db, user.id, 3, 'at once')
    await accessRefused(t, app, sessions)
    await refreshRefused(t, app, sessions, spent)
    await passwordRefused(t, app, web, user)
    await familiesRevoked(t, db, user.id, 3, 'still')
  })

  t.test('disabled in the database only: the refresh grant is the backstop', async (t) => {
    const { user, sessions, spent } = await signedIn(t)
    await app.stores.users.setDisabled(user.id, new Date(clock.now()))
    t.same(
      await db.query('SELECT count(*)::int AS n FROM refresh_families WHERE user_id = $1 AND revoked_at IS NULL', [user.id]),
      [{ n: 3 }],
      'its families are still live in the table',
    )
    await accessRefused(t, app, sessions)
    // The current refresh token of a live family: the first refresh finds the account disabled.
    const refresh = await token(app, web, { grant_type: 'refresh_token', refresh_token: sessions[0]![2].refresh_token! })
    t.equal(refresh.statusCode, 400)
    t.equal(refresh.json().error, 'invalid_grant', 'refresh: invalid_grant')
    await familiesRevoked(t, db, user.id, 3, 'by that refresh')
    await refreshRefused(t, app, sessions, spent)
    await passwordRefused(t, app, web, user)
    const rows = await db.query<{ type: string; details: { reason?: string } }>(
      "SELECT type, details FROM audit_events WHERE subject_id = $1 AND type = 'family.revoked' ORDER BY id",
      [user.id],
    )
    t.same(
      rows.map((r) => r.details.reason),
      ['user_disabled', 'user_disabled', 'user_disabled'],
      'a family.revoked row per session',
    )
  })

  t.test('disabled in the database only: the password grant is the backstop', async (t) => {
    const { user, sessions, spent } = await signedIn(t)
    await app.stores.users.setDisabled(user.id, new Date(clock.now()))
    await accessRefused(t, app, sessions)
    await passwordRefused(t, app, web, user)
    await familiesRevoked(t, db, user.id, 3, 'by that sign-in')
    await refreshRefused(t, app, sessions, spent)
    t.same(
      await db.query("SELECT details FROM audit_events WHERE subject_id = $1 AND type = 'signin.failed' ORDER BY id", [user.id]),
      [{ details: { via: 'password_grant' } }, { details: { via: 'password_grant', reason: 'disabled' } }, { details: { via: 'password_grant' } }],
      'audit: the wrong password before, the right one refused because disabled, the wrong one after',
    )
  })
})

/** Every family of the user is revoked, as user_disabled. */
async function familiesRevoked(t: Test, db: Connection, userId: string, count: number, when: string) {
  const rows = await db.query<{ revoked: boolean; revoked_reason: string | null }>(
    'SELECT revoked_at IS NOT NULL AS revoked, revoked_reason FROM refresh_families WHERE user_id = $1',
    [userId],
  )
  t.same(
    rows,
    Array.from({ length: count }, () => ({ revoked: true, revoked_reason: 'user_disabled' })),
    `every family revoked, ${when}`,
  )
}

/** Every access token is inactive at /introspect and refused at /me and /userinfo. */
async function accessRefused(t: Test, app: App, sessions: [string, TestClient, Session][]) {
  for (const [name, client, s] of sessions) {
    t.same((await post(app, '/introspect', client, { token: s.access_token })).json(), { active: false }, `${name}: access token inactive at /introspect`)
    t.same((await post(app, '/introspect', client, { token: s.refresh_token! })).json(), { active: false }, `${name}: refresh token inactive too`)
    for (const url of ['/me', '/userinfo']) {
      const res = await app.inject({ url, headers: { authorization: `Bearer ${s.access_token}` } })
      t.equal(res.statusCode, 401, `${name}: ${url} 401`)
      t.equal(res.json().error, 'invalid_token', `${name}: ${url} invalid_token`)
      t.match(res.headers['www-authenticate'], /^Bearer realm="tessera", error="invalid_token"/)
    }
  }
}

/** Every refresh token, current or spent, is invalid_grant and gives nothing. */
async function refreshRefused(t: Test, app: App, sessions: [string, TestClient, Session][], spent: string) {
  for (const [name, client, s] of [...sessions, ['web (spent)', sessions[0]![1], { refresh_token: spent }] as const]) {
    const res = await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
    t.equal(res.statusCode, 400, `${name}: refresh 400`)
    t.equal(res.json().error, 'invalid_grant', `${name}: refresh invalid_grant`)
    t.notOk(res.json().access_token, `${name}: no token`)
  }
}

/** The right password gets exactly what a wrong one gets. */
async function passwordRefused(t: Test, app: App, client: TestClient, user: { email: string; password: string }) {
  for (const password of [user.password, 'not the password']) {
    const res = await token(app, client, { grant_type: 'password', username: user.email, password })
    t.equal(res.statusCode, 400, `password grant (${password === user.password ? 'the right password' : 'a wrong one'}): 400`)
    t.same(res.json(), NOT_SIGNED_IN, 'the answer a wrong password gets')
  }
}
