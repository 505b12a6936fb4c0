// One account's whole story, and the exact audit rows it leaves (docs/endpoints.md#audit-events):
// sign-up, sign-in, a failed sign-in, a refresh, a reuse, a password reset by mail, and an
// admin who disables the account.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { adminToken, decode, makeAdminConsole, makeClient, makeUser, signIn, token } from '../helpers/factories.js'
import { resetTokenOf, startSmtp } from '../helpers/smtp.js'

interface Row {
  type: string
  actor_id: string | null
  subject_id: string | null
  client_id: string | null
  ip: string | null
  user_agent: string | null
  details: Record<string, unknown> | null
}

eachLeg(t, async (t, leg) => {
  const smtp = await startSmtp(t)
  const clock = frozenClock()
  const { app, db } = await build(t, leg, { clock, env: { SMTP_URL: smtp.url } })
  const client = await makeClient(app)
  const console = await makeAdminConsole(app)
  const admin = await makeUser(app, { role: 'admin' })
  const bearer = await adminToken(app, console, admin)
  // From here on, only the story's rows.
  await db.exec('DELETE FROM audit_events')
  const ua = { 'user-agent': 'story/1.0' }
  const json = (method: 'POST' | 'PATCH', url: string, payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method, url, payload, headers: { ...ua, ...headers } })

  // 1. Sign-up.
  const email = 'ada@example.com'
  const signUp = await json('POST', '/users', { email, password: 'correct horse battery', name: 'Ada' })
  t.equal(signUp.statusCode, 201)
  const ada = signUp.json().id as string
  // 2. Sign-in, 3. a failed one, 4. a refresh, 5. the spent token again.
  // signIn() sends light-my-request's own user agent: another device.
  const first = await signIn(app, client, { email, password: 'correct horse battery' })
  clock.advance(1)
  t.equal((await token(app, client, { grant_type: 'password', username: email, password: 'wrong guess' }, ua)).statusCode, 400)
  clock.advance(1)
  const refreshed = await token(app, client, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, ua)
  t.equal(refreshed.statusCode, 200)
  clock.advance(1)
  t.equal((await token(app, client, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, ua)).json().error, 'invalid_grant')
  const reusedSid = decode(first.refresh_token!).payload.sid as string
  // A new sign-in, whose session the reset will end.
  clock.advance(1)
  const second = await signIn(app, client, { email, password: 'correct horse battery' })
  const secondSid = decode(second.access_token).payload.sid as string
  // 6. The reset, by mail.
  clock.advance(1)
  t.equal((await json('POST', '/password/forgot', { email })).statusCode, 202)
  const mail = await smtp.next()
  clock.advance(1)
  t.equal((await json('POST', '/password/reset', { token: resetTokenOf(mail), password: 'a brand new passphrase' })).statusCode, 200)
  // 7. Signed in again, then disabled by an admin.
  clock.advance(1)
  const third = await signIn(app, client, { email, password: 'a brand new passphrase' })
  const thirdSid = decode(third.access_token).payload.sid as string
  clock.advance(1)
  const disabled = await json('PATCH', `/admin/users/${ada}`, { disabled: true }, { authorization: `Bearer ${bearer}` })
  t.equal(disabled.statusCode, 200)

  const rows = await db.query<Row>('SELECT type, actor_id, subject_id, client_id, ip, user_agent, details FROM audit_events ORDER BY id')
  const from = { ip: '127.0.0.1' }
  t.same(
    rows,
    [
      { type: 'user.created', actor_id: ada, subject_id: ada, client_id: null, ...from, user_agent: 'story/1.0', details: null },
      { type: 'signin.ok', actor_id: ada, subject_id: ada, client_id: client.id, ...from, user_agent: 'lightMyRequest', details: { sid: reusedSid } },
      { type: 'signin.failed', actor_id: null, subject_id: ada, client_id: client.id, ...from, user_agent: 'story/1.0', details: { via: 'password_grant' } },
      {
        type: 'refresh.reuse_detected',
        actor_id: null,
        subject_id: ada,
        client_id: client.id,
        ...from,
        user_agent: 'story/1.0',
        details: { sid: reusedSid, generation: 1 },
      },
      {
        type: 'family.revoked',
        actor_id: null,
        subject_id: ada,
        client_id: client.id,
        ...from,
        user_agent: 'story/1.0',
        details: { sid: reusedSid, reason: 'reuse_detected' },
      },
      { type: 'signin.ok', actor_id: ada, subject_id: ada, client_id: client.id, ...from, user_agent: 'lightMyRequest', details: { sid: secondSid } },
      { type: 'password.reset_requested', actor_id: null, subject_id: ada, client_id: null, ...from, user_agent: 'story/1.0', details: null },
      { type: 'password.reset', actor_id: ada, subject_id: ada, client_id: null, ...from, user_agent: 'story/1.0', details: null },
      {
        type: 'family.revoked',
        actor_id: ada,
        subject_id: ada,
        client_id: null,
        ...from,
        user_agent: 'story/1.0',
        details: { sid: secondSid, reason: 'password_reset' },
      },
      { type: 'signin.ok', actor_id: ada, subject_id: ada, client_id: client.id, ...from, user_agent: 'lightMyRequest', details: { sid: thirdSid } },
      { type: 'user.disabled', actor_id: admin.id, subject_id: ada, client_id: null, ...from, user_agent: 'story/1.0', details: { via: 'api' } },
      {
        type: 'family.revoked',
        actor_id: admin.id,
        subject_id: ada,
        client_id: null,
        ...from,
        user_agent: 'story/1.0',
        details: { sid: thirdSid, reason: 'user_disabled' },
      },
    ],
    'every event, in order, with who, about whom, through which client, from where',
  )
  const times = await db.query<{ at: Date }>('SELECT at FROM audit_events ORDER BY id')
  t.ok(
    times.every((r, i) => i === 0 || r.at.getTime() >= times[i - 1]!.at.getTime()),
    "stamped with the app's clock, in order",
  )
  t.equal(times[0]!.at.getTime(), clock.now() - 8000, "the sign-up's time is the frozen clock's, not the database's")
})
