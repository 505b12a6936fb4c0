// Refresh-token families (docs/tokens.md#refresh-families): rotation, reuse detection, leeway, lifetimes, races.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { decode, makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'

const refresh = (app: Parameters<typeof token>[0], client: Parameters<typeof token>[1], rt: string, extra: Record<string, string> = {}) =>
  token(app, client, { grant_type: 'refresh_token', refresh_token: rt, ...extra })

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app, db } = await build(t, leg, { clock, env: { REFRESH_TOKEN_TTL: '1h', REFRESH_FAMILY_TTL: '3h' } })
  const client = await makeClient(app)
  const user = await makeUser(app)

  const familyOf = async (sid: string) =>
    (
      await db.query<{ revoked_at: Date | null; revoked_reason: string | null; generation: number }>(
        'SELECT revoked_at, revoked_reason, generation FROM refresh_families WHERE id = $1',
        [sid],
      )
    )[0]!

  t.test('each refresh rotates: new token of the same family, old one spent', async (t) => {
    const first = await signIn(app, client, user)
    const sid = decode(first.refresh_token!).payload.sid
    t.equal(decode(first.access_token).payload.sid, sid, 'the access token names its family')
    clock.advance(5)
    const res = await refresh(app, client, first.refresh_token!)
    t.equal(res.statusCode, 200)
    t.equal(res.headers['cache-control'], 'no-store')
    t.equal(res.headers.pragma, 'no-cache')
    const second = res.json()
    t.not(second.refresh_token, first.refresh_token)
    t.equal(decode(second.refresh_token).payload.sid, sid, 'same family')
    t.equal(decode(second.access_token).payload.sub, user.id)
    t.same(decode(second.access_token).payload.roles, ['user'])
    t.equal((await familyOf(sid)).generation, 1)
    // A normal refresh does not revoke access tokens already issued (docs/tokens.md#rotation).
    const intro = await post(app, '/introspect', client, { token: first.access_token })
    t.equal(intro.json().active, true)
    // And the new refresh token works in turn.
    t.equal((await refresh(app, client, second.refresh_token)).statusCode, 200)
  })

  t.test('reuse of a spent token revokes the whole family and is audited', async (t) => {
    const first = await signIn(app, client, user)
    const sid = decode(first.refresh_token!).payload.sid
    const second = (await refresh(app, client, first.refresh_token!)).json()
    const third = (await refresh(app, client, second.refresh_token)).json()

    const reuse = await refresh(app, client, first.refresh_token!)
    t.equal(reuse.statusCode, 400)
    t.same(reuse.json(), { error: 'invalid_grant', error_description: 'The refresh token was already used; the session has been revoked.' })
    const fam = await familyOf(sid)
    t.ok(fam.revoked_at, 'family revoked')
    t.equal(fam.revoked_reason, 'reuse_detected')

    // Every token of the family is dead now: the current refresh token, and its access tokens.
    t.equal((await refresh(app, client, third.refresh_token)).json().error, 'invalid_grant')
    for (const at of [first.access_token, second.access_token, third.access_token]) {
      t.same((await post(app, '/introspect', client, { token: at })).json(), { active: false })
    }
    t.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${third.access_token}` } })).statusCode, 401)
    const events = await db.query<{ type: string; subject_id: string; client_id: string }>(
      "SELECT type, subject_id, client_id FROM audit_events WHERE type = 'refresh.reuse_detected' AND details->>'sid' = $1",
      [sid],
    )
    t.equal(events.length, 1)
    t.match(events[0], { subject_id: user.id, client_id: client.id })
  })

  t.test('other families of the same user are untouched by one family being revoked', async (t) => {
    const a = await signIn(app, client, user)
    const b = await signIn(app, client, user)
    await refresh(app, client, a.refresh_token!)
    await refresh(app, client, a.refresh_token!) // reuse: family a revoked
    t.equal((await refresh(app, client, b.refresh_token!)).statusCode, 200)
  })

  t.test('a refresh token presented by another client is refused and spends nothing', async (t) => {
    const other = await makeClient(app)
    const s = await signIn(app, client, user)
    const res = await refresh(app, other, s.refresh_token!)
    t.equal(res.json().error, 'invalid_grant')
    t.equal((await refresh(app, client, s.refresh_token!)).statusCode, 200, 'still usable by its own client')
  })

  t.test('scope may narrow on refresh, never widen; the family keeps its scope', async (t) => {
    const s = await signIn(app, client, user, { scope: 'read write' })
    const narrow = await refresh(app, client, s.refresh_token!, { scope: 'read' })
    t.equal(narrow.statusCode, 200)
    t.equal(narrow.json().scope, 'read')
    t.equal(decode(narrow.json().access_token).payload.scope, 'read')
    t.equal(decode(narrow.json().refresh_token).payload.scope, 'read write')
    const wide = await refresh(app, client, narrow.json().refresh_token, { scope: 'read profile' })
    t.equal(wide.statusCode, 400)
    t.equal(wide.json().error, 'invalid_scope')
    // The refused request did not spend the token.
    const again = await refresh(app, client, narrow.json().refresh_token)
    t.equal(again.statusCode, 200)
    t.equal(again.json().scope, 'read write')
  })

  t.test('idle lifetime: unused for longer than REFRESH_TOKEN_TTL, the token is dead', async (t) => {
    const s = await signIn(app, client, user)
    clock.advance(3600 + 31) // one hour, plus more than the 30 s clock skew
    const res = await refresh(app, client, s.refresh_token!)
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'invalid_grant')
  })

  t.test('each rotation restarts the idle lifetime, but never past the family absolute lifetime', async (t) => {
    let s = await signIn(app, client, user)
    const sid = decode(s.refresh_token!).payload.sid
    const familyEnd = decode(s.refresh_token!).payload.iat + 3 * 3600
    for (let i = 0; i < 5; i++) {
      clock.advance(50 * 60) // 50 min: within the 1 h idle window each time
      const res = await refresh(app, client, s.refresh_token!)
      if (i < 3) {
        t.equal(res.statusCode, 200, `rotation ${i + 1} at ${(i + 1) * 50} min`)
        s = res.json()
        t.ok(decode(s.refresh_token!).payload.exp <= familyEnd, 'token never outlives its family')
      } else {
        // 200 and 250 min are past the 3 h family end.
        t.equal(res.json().error, 'invalid_grant', `refused at ${(i + 1) * 50} min`)
      }
    }
    t.equal((await familyOf(sid)).revoked_at, null, 'expiry is not revocation')
  })

  t.test('a disabled user: invalid_grant on refresh, and every family revoked', async (t) => {
    const u = await makeUser(app)
    const a = await signIn(app, client, u)
    const b = await signIn(app, client, u)
    await db.query('UPDATE users SET disabled_at = now() WHERE id = $1', [u.id])
    t.equal((await refresh(app, client, a.refresh_token!)).json().error, 'invalid_grant')
    const live = await db.query('SELECT id FROM refresh_families WHERE user_id = $1 AND revoked_at IS NULL', [u.id])
    t.equal(live.length, 0)
    t.equal((await refresh(app, client, b.refresh_token!)).json().error, 'invalid_grant')
    const signin = await token(app, client, { grant_type: 'password', username: u.email, password: u.password })
    t.equal(signin.json().error, 'invalid_grant')
  })

  t.test('20 rounds of two concurrent refreshes with one token: exactly one winner each', async (t) => {
    for (let round = 0; round < 20; round++) {
      const s = await signIn(app, client, user)
      const results = await Promise.all([refresh(app, client, s.refresh_token!), refresh(app, client, s.refresh_token!)])
      const codes = results.map((r) => r.statusCode).sort()
      t.same(codes, [200, 400], `round ${round}`)
      const loser = results.find((r) => r.statusCode === 400)!
      t.equal(loser.json().error, 'invalid_grant')
    }
  })

  t.test('malformed and foreign refresh tokens are invalid_grant, never 500', async (t) => {
    for (const rt of ['garbage', 'a.b.c', 'x'.repeat(9000), (await signIn(app, client, user)).access_token]) {
      const res = await refresh(app, client, rt)
      t.equal(res.statusCode, 400)
      t.equal(res.json().error, 'invalid_grant')
    }
    const missing = await token(app, client, { grant_type: 'refresh_token' })
    t.equal(missing.json().error, 'invalid_request')
  })
})

t.test('REFRESH_REUSE_LEEWAY', async (t) => {
  eachLeg(t, async (t, leg) => {
    const clock = frozenClock()
    const { app, db } = await build(t, leg, { clock, env: { REFRESH_REUSE_LEEWAY: '10' } })
    const client = await makeClient(app)
    const user = await makeUser(app)

    t.test('the previous token within the window returns the current token again, never a branch', async (t) => {
      const s0 = await signIn(app, client, user)
      clock.advance(2)
      const s1 = (await refresh(app, client, s0.refresh_token!)).json()
      clock.advance(3)
      const retry = await refresh(app, client, s0.refresh_token!)
      t.equal(retry.statusCode, 200)
      t.equal(retry.json().refresh_token, s1.refresh_token, 'the very same refresh token, byte for byte')
      t.not(retry.json().access_token, s1.access_token, 'with a fresh access token')
      // Exactly one usable refresh token: s1 rotates on; then s0 is older than previous → reuse.
      const s2 = (await refresh(app, client, s1.refresh_token)).json()
      t.ok(s2.refresh_token)
      const old = await refresh(app, client, s0.refresh_token!)
      t.equal(old.json().error, 'invalid_grant', 'a token two generations back is reuse, leeway or not')
      const sid = decode(s0.refresh_token!).payload.sid
      t.ok((await db.query<{ revoked_at: Date | null }>('SELECT revoked_at FROM refresh_families WHERE id = $1', [sid]))[0]!.revoked_at)
    })

    t.test('outside the window the previous token is reuse', async (t) => {
      const s0 = await signIn(app, client, user)
      await refresh(app, client, s0.refresh_token!)
      clock.advance(11)
      const late = await refresh(app, client, s0.refresh_token!)
      t.equal(late.json().error, 'invalid_grant')
    })
  })
})
