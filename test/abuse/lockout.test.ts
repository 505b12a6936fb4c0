// Per-account lockout (docs/errors.md#rate-limited): LOCKOUT_THRESHOLD failed password checks of
// one sign-in name within LOCKOUT_WINDOW, from any address, lock it for LOCKOUT_DURATION. While
// locked even the right password is refused with 429; the answer is the same for a name no
// account has; a success, a reset or an admin's unlock clears the count.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { adminToken, lockoutRow, makeAdminConsole, makeClient, makeUser, token } from '../helpers/factories.js'

const LOCKED = { error: 'rate_limited', error_description: 'Too many failed sign-ins for this account; try again later.' }

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app, db } = await build(t, leg, { clock, env: { LOCKOUT_THRESHOLD: '3', LOCKOUT_WINDOW: '10m', LOCKOUT_DURATION: '15m' } })
  const client = await makeClient(app)
  const attempt = (username: string, password: string, ip = '192.0.2.1') =>
    token(app, client, { grant_type: 'password', username, password }, { 'x-test-ip': ip }).then((r) => ({
      status: r.statusCode,
      body: r.json(),
      retry: r.headers['retry-after'],
    }))

  t.test('failures from many addresses lock the account; even the right password is refused', async (t) => {
    const user = await makeUser(app)
    for (let i = 0; i < 3; i++) {
      const r = await attempt(user.email, `wrong guess ${i}`)
      t.equal(r.status, 400, `failure ${i + 1}: a wrong password`)
      t.equal(r.body.error, 'invalid_grant')
    }
    const right = await attempt(user.email, user.password)
    t.equal(right.status, 429, 'locked: the right password is refused too')
    t.same(right.body, LOCKED)
    t.equal(right.retry, String(15 * 60), 'Retry-After: the rest of the lock')
    t.match(await lockoutRow(db, user.email), { count: 3 })
    const [locked] = await db.query<{ subject_id: string }>("SELECT subject_id FROM audit_events WHERE type = 'account.locked' AND subject_id = $1", [user.id])
    t.equal(locked?.subject_id, user.id, 'audited as account.locked')
    t.equal((await app.metrics.registry.getSingleMetricAsString('tessera_lockouts_total')).includes('tessera_lockouts_total 1'), true, 'counted')

    clock.advance(10 * 60)
    t.equal((await attempt(user.email, user.password)).status, 429, 'still locked after 10 minutes')
    t.equal((await attempt(user.email, user.password)).retry, String(5 * 60))
    clock.advance(5 * 60)
    const after = await attempt(user.email, user.password)
    t.equal(after.status, 200, 'released after LOCKOUT_DURATION')
    t.equal(await lockoutRow(db, user.email), undefined, 'and the success clears the count')
  })

  t.test('an account that does not exist answers exactly the same, and pays the same argon2 work', async (t) => {
    const real = await makeUser(app)
    const ghost = `nobody-${Date.now()}@example.com`
    const answers = async (email: string, password: string) => {
      const out = []
      for (let i = 0; i < 4; i++) out.push(await attempt(email, i === 3 ? password : `nope ${i}`))
      return out
    }
    const realAnswers = await answers(real.email, real.password)
    const ghostAnswers = await answers(ghost, 'whatever it is')
    t.same(
      ghostAnswers.map((a) => [a.status, a.body, a.retry]),
      realAnswers.map((a) => [a.status, a.body, a.retry]),
      'the same status, body and Retry-After, step by step',
    )
    t.same(
      realAnswers.map((a) => a.status),
      [400, 400, 400, 429],
    )
    // Timing: a locked check still runs argon2 (against the dummy hash). Measured as medians of
    // a few calls, loosely: an unhashed refusal would be ~100x faster.
    const time = async (email: string) => {
      const times: number[] = []
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now()
        await attempt(email, 'whatever it is')
        times.push(performance.now() - t0)
      }
      return times.sort((a, b) => a - b)[2]!
    }
    const lockedTime = await time(real.email)
    const unlockedUser = await makeUser(app)
    const wrongTime = await time(unlockedUser.email)
    t.ok(lockedTime > wrongTime / 4, `a locked refusal pays argon2 too (${lockedTime.toFixed(1)} ms against ${wrongTime.toFixed(1)} ms for a wrong password)`)
  })

  t.test('the count is per window: failures spread wider than LOCKOUT_WINDOW never lock', async (t) => {
    const user = await makeUser(app)
    for (let i = 0; i < 6; i++) {
      t.equal((await attempt(user.email, 'wrong')).status, 400, `failure ${i + 1}`)
      clock.advance(6 * 60)
    }
    t.equal((await attempt(user.email, user.password)).status, 200, 'never locked: no three failures within 10 minutes')
  })

  t.test('an admin unlock clears a lockout, through the API and the CLI', async (t) => {
    const user = await makeUser(app)
    for (let i = 0; i < 3; i++) await attempt(user.email, 'wrong')
    t.equal((await attempt(user.email, user.password)).status, 429)
    const console = await makeAdminConsole(app)
    const admin = await makeUser(app, { role: 'admin' })
    const bearer = await adminToken(app, console, admin)
    const view = await app.inject({ url: `/admin/users/${user.id}`, headers: { authorization: `Bearer ${bearer}` } })
    t.match(view.json(), { failed_logins: 3, locked_until: new Date(clock.now() + 15 * 60_000).toISOString() }, 'the admin sees the lock')
    const unlock = await app.inject({
      method: 'PATCH',
      url: `/admin/users/${user.id}`,
      headers: { authorization: `Bearer ${bearer}` },
      payload: { locked: false },
    })
    t.match(unlock.json(), { failed_logins: 0, locked_until: null })
    t.equal((await attempt(user.email, user.password)).status, 200, 'unlocked by the admin')

    for (let i = 0; i < 3; i++) await attempt(user.email, 'wrong')
    t.equal((await attempt(user.email, user.password)).status, 429, 'locked again')
    // A reset's clearing of the lockout is tested with the mail in test/accounts/password-reset.test.ts.
    const { changeUser } = await import('../../src/accounts/admin.js')
    await changeUser(
      { users: app.stores.users, families: app.stores.families, lockouts: app.stores.lockouts, audit: app.audit, clock: app.clock },
      user.id,
      { locked: false },
      { userId: null, meta: { ip: null, userAgent: null }, via: 'cli' },
    )
    t.equal((await attempt(user.email, user.password)).status, 200, 'unlocked by `tessera users unlock`')
  })

  t.test('a wrong current password at /me/password counts too', async (t) => {
    const user = await makeUser(app)
    const s = (await token(app, client, { grant_type: 'password', username: user.email, password: user.password })).json()
    for (let i = 0; i < 3; i++) {
      const r = await app.inject({
        method: 'POST',
        url: '/me/password',
        headers: { authorization: `Bearer ${s.access_token}` },
        payload: { current_password: `wrong ${i}`, new_password: 'a new long passphrase' },
      })
      t.equal(r.statusCode, 400)
    }
    const locked = await app.inject({
      method: 'POST',
      url: '/me/password',
      headers: { authorization: `Bearer ${s.access_token}` },
      payload: { current_password: user.password, new_password: 'a new long passphrase' },
    })
    t.equal(locked.statusCode, 429, 'the change is refused while locked')
    t.equal((await attempt(user.email, user.password)).status, 429, 'and so is a sign-in')
  })
})
