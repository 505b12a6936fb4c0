// Password reset by mail (docs/endpoints.md#post-passwordforgot-post-passwordreset), over a real
// SMTP server: /password/forgot answers the same whoever asks and mails only an enabled
// account; the link's token is stored only as its SHA-256, works once, within
// PASSWORD_RESET_TTL, and only the newest one; using it sets the password, ends every session
// and clears a lockout. Without SMTP_URL the link is logged (never in production), and no
// header of the mail can be injected.
import { createHash, randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import pino from 'pino'
import t, { type Test } from 'tap'
import { createAccount } from '../../src/accounts/accounts.js'
import { buildApp } from '../../src/app.js'
import { ConfigError, loadConfig } from '../../src/config/index.js'
import { loggerOptions } from '../../src/lib/logger.js'
import { createMailer, HeaderInjection } from '../../src/mail/mailer.js'
import { build, eachLeg, testConfig } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { decode, lockoutRow, makeClient, makeUser, setLockout, signIn, token } from '../helpers/factories.js'
import { type Received, resetTokenOf, startSmtp } from '../helpers/smtp.js'
import { until } from '../helpers/wait.js'

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const ACCEPTED = { message: 'If an account has this address, a link to reset its password is on its way there.' }
const RESET = { message: 'Your password is changed, and every session of the account is signed out: sign in again.' }
const BAD_LINK = { error: 'invalid_request', error_description: 'The reset link is invalid, was used already or has expired; ask for a new one.' }
const NOT_SIGNED_IN = { error: 'invalid_grant', error_description: 'Invalid email or password.' }
const MAIL_FROM = 'Tessera <id@example.com>'

eachLeg(t, async (t, leg) => {
  const smtp = await startSmtp(t)
  const clock = frozenClock()
  const kek = randomBytes(32).toString('hex')
  const { app, db, config } = await build(t, leg, { clock, env: { SMTP_URL: smtp.url, MAIL_FROM, KEY_ENCRYPTION_KEY: kek } })
  const client = await makeClient(app)
  const forgot = (payload: object | string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/password/forgot', payload, headers: { 'content-type': 'application/json', ...headers } })
  const reset = (payload: object | string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/password/reset', payload, headers: { 'content-type': 'application/json', ...headers } })
  const signInWith = (email: string, password: string) => token(app, client, { grant_type: 'password', username: email, password })
  /** Asks for a link for `email`; the mail it brings. */
  async function mailFor(t: Test, email: string): Promise<Received> {
    const res = await forgot({ email })
    t.equal(res.statusCode, 202, 'asked for a link')
    return smtp.next()
  }
  const resetRows = (userId: string) =>
    db.query<{ token_hash: string; used_at: Date | null; expires_at: Date }>(
      'SELECT token_hash, used_at, expires_at FROM password_reset_tokens WHERE user_id = $1',
      [userId],
    )

  t.test('/password/forgot: one answer for every address; a mail only for an enabled account', async (t) => {
    const ada = await makeUser(app)
    const off = await makeUser(app)
    await app.stores.users.setDisabled(off.id, new Date(clock.now()))
    const rowsBefore = await db.query('SELECT id FROM password_reset_tokens')

    // The others first: had any of them sent a mail, it would be there before Ada's.
    const asks: [string, string][] = [
      ['an unknown address', 'nobody@example.com'],
      ['a disabled account', off.email],
      ['a malformed but plausible address', 'ada@example'],
      ['two @', `ada@@${ada.email.split('@')[1]}`],
      ['a header injection', `${off.email}\r\nBcc: eve@example.com`],
      ['an existing, enabled account (as typed: capitals and spaces)', `  ${ada.email.toUpperCase()} `],
    ]
    const answers: { status: number; type: unknown; body: string }[] = []
    for (const [what, email] of asks) {
      const res = await forgot({ email })
      t.equal(res.statusCode, 202, `${what}: 202`)
      t.same(res.json(), ACCEPTED, `${what}: the same body`)
      answers.push({ status: res.statusCode, type: res.headers['content-type'], body: res.body })
    }
    t.same(
      answers.map((a) => JSON.stringify(a)),
      answers.map(() => JSON.stringify(answers[0])),
      'byte for byte the same answer, whoever asked',
    )

    const mail = await smtp.next()
    t.equal(smtp.messages.length, 1, 'one mail, and only one, for all six requests')
    t.same(mail.envelopeTo, [ada.email], "delivered to the account's address")
    t.same(mail.mail.to && !Array.isArray(mail.mail.to) ? mail.mail.to.value : undefined, [{ address: ada.email, name: '' }], 'To: the account')
    t.same(mail.mail.from?.value, [{ address: 'id@example.com', name: 'Tessera' }], 'From: MAIL_FROM')
    t.equal(mail.mail.subject, 'Reset your password')
    const tokenInMail = resetTokenOf(mail)
    t.match(tokenInMail, /^[A-Za-z0-9_-]{43}$/, 'a 256-bit token')
    const link = `${config.issuer}/reset-password?token=${tokenInMail}`
    t.ok(mail.mail.text?.split('\n').includes(link), 'the text part holds the link, on a line of its own')
    t.ok(typeof mail.mail.html === 'string' && mail.mail.html.includes(`<a href="${link}">`), 'the HTML part links to it too')
    t.match(mail.mail.text, /within 1 hour/, 'and says how long it works')

    const rows = await db.query<{ user_id: string; token_hash: string; expires_at: Date; used_at: Date | null }>(
      'SELECT user_id, token_hash, expires_at, used_at FROM password_reset_tokens',
    )
    t.same(rowsBefore, [], 'no token before')
    t.same(
      rows,
      [{ user_id: ada.id, token_hash: sha256(tokenInMail), expires_at: new Date(clock.now() + 3600_000), used_at: null }],
      "one token, Ada's, stored as its SHA-256, valid an hour",
    )
    const table = await db.query<{ row: string }>('SELECT row_to_json(p)::text AS row FROM password_reset_tokens p')
    t.notOk(
      table.some((r) => r.row.includes(tokenInMail)),
      'the token itself is nowhere in the table',
    )
    t.same(
      (await db.query<{ subject_id: string }>("SELECT subject_id FROM audit_events WHERE type = 'password.reset_requested'")).map((r) => r.subject_id),
      [ada.id],
      'audit password.reset_requested, for Ada only',
    )
  })

  t.test('the link sets the password once, ends every session and clears a lockout', async (t) => {
    const user = await makeUser(app, { password: 'the old password' })
    const phone = await signIn(app, client, user)
    const laptop = await signIn(app, client, user)
    const lockedUntil = new Date(clock.now() + 15 * 60_000)
    await setLockout(db, user.email, 10, lockedUntil)
    const tok = resetTokenOf(await mailFor(t, user.email))
    await db.exec('DELETE FROM audit_events')
    clock.advance(60)

    const res = await reset({ token: tok, password: 'a brand new passphrase' })
    t.equal(res.statusCode, 200)
    t.same(res.json(), RESET)
    const audit = await db.query<{ type: string; actor_id: string | null; subject_id: string; details: { sid?: string; reason?: string } | null }>(
      'SELECT type, actor_id, subject_id, details FROM audit_events ORDER BY id',
    )
    const sids = [phone, laptop].map((s) => decode(s.access_token).payload.sid as string).sort()
    t.same(audit[0], { type: 'password.reset', actor_id: user.id, subject_id: user.id, details: null }, 'audit password.reset')
    t.same(
      audit
        .slice(1)
        .map((r) => ({ ...r, sid: r.details?.sid }))
        .sort((a, b) => String(a.sid).localeCompare(String(b.sid)))
        .map(({ sid: _, ...r }) => r),
      sids.map((sid) => ({ type: 'family.revoked', actor_id: user.id, subject_id: user.id, details: { sid, reason: 'password_reset' } })),
      'and a family.revoked per session',
    )
    t.equal(audit.length, 3, 'nothing else: the reset is the whole story')
    t.same((await signInWith(user.email, 'the old password')).json(), NOT_SIGNED_IN, 'the old password no longer signs in')
    for (const [name, s] of [
      ['phone', phone],
      ['laptop', laptop],
    ] as const) {
      const refresh = await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
      t.equal(refresh.statusCode, 400)
      t.equal(refresh.json().error, 'invalid_grant', `${name}: its refresh token is dead`)
      t.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${s.access_token}` } })).statusCode, 401, `${name}: signed out`)
    }
    t.same(
      await db.query('SELECT revoked_reason FROM refresh_families WHERE user_id = $1', [user.id]),
      [{ revoked_reason: 'password_reset' }, { revoked_reason: 'password_reset' }],
      'every family revoked, as password_reset',
    )
    t.equal(await lockoutRow(db, user.email), undefined, 'the lockout is cleared')
    t.same(
      (await resetRows(user.id)).map((r) => r.used_at),
      [new Date(clock.now())],
      'the token is spent',
    )
    t.equal((await signInWith(user.email, 'a brand new passphrase')).statusCode, 200, 'the new password signs in')

    const again = await reset({ token: tok, password: 'yet another passphrase' })
    t.equal(again.statusCode, 400, 'the link works once')
    t.same(again.json(), BAD_LINK)
    t.same((await signInWith(user.email, 'yet another passphrase')).json(), NOT_SIGNED_IN, 'the second try set nothing')
    t.equal((await signInWith(user.email, 'a brand new passphrase')).statusCode, 200, 'the first new password stays')
  })

  t.test('a link expires after PASSWORD_RESET_TTL (1 h)', async (t) => {
    const user = await makeUser(app, { password: 'the old password' })
    const late = resetTokenOf(await mailFor(t, user.email))
    clock.advance(3600 + 1)
    const res = await reset({ token: late, password: 'a brand new passphrase' })
    t.equal(res.statusCode, 400, 'an hour and a second later: expired')
    t.same(res.json(), BAD_LINK)
    t.equal((await signInWith(user.email, 'the old password')).statusCode, 200, 'the password is unchanged')

    const inTime = resetTokenOf(await mailFor(t, user.email))
    clock.advance(3600 - 1)
    t.equal((await reset({ token: inTime, password: 'a brand new passphrase' })).statusCode, 200, 'a second before the hour is up: it works')
    t.equal((await signInWith(user.email, 'a brand new passphrase')).statusCode, 200)
  })

  t.test('a newer link replaces an older one', async (t) => {
    const user = await makeUser(app, { password: 'the old password' })
    const first = resetTokenOf(await mailFor(t, user.email))
    clock.advance(1)
    const second = resetTokenOf(await mailFor(t, user.email))
    t.not(first, second, 'two different links')
    t.same(
      (await resetRows(user.id)).map((r) => r.token_hash),
      [sha256(second)],
      'only the newer one is stored',
    )
    const old = await reset({ token: first, password: 'from the first mail' })
    t.equal(old.statusCode, 400, 'the first mail no longer works')
    t.same(old.json(), BAD_LINK)
    t.equal((await reset({ token: second, password: 'from the second mail' })).statusCode, 200, 'the second does')
    t.equal((await signInWith(user.email, 'from the second mail')).statusCode, 200)
    t.same((await signInWith(user.email, 'from the first mail')).json(), NOT_SIGNED_IN)
  })

  t.test('a link issued before the account was disabled does not work', async (t) => {
    const user = await makeUser(app, { password: 'the old password' })
    const tok = resetTokenOf(await mailFor(t, user.email))
    await app.stores.users.setDisabled(user.id, new Date(clock.now()))
    const res = await reset({ token: tok, password: 'a brand new passphrase' })
    t.equal(res.statusCode, 400)
    t.same(res.json(), BAD_LINK)
    await app.stores.users.setDisabled(user.id, null)
    t.equal((await signInWith(user.email, 'the old password')).statusCode, 200, 'the password did not change')
  })

  t.test('bad input: a 400 (or 415), never a 500, and nothing changes', async (t) => {
    const user = await makeUser(app, { password: 'the old password' })
    const tok = resetTokenOf(await mailFor(t, user.email))
    const state = async () => ({
      user: await db.query('SELECT password_hash, updated_at FROM users WHERE id = $1', [user.id]),
      lockout: await lockoutRow(db, user.email),
      tokens: await resetRows(user.id),
      families: await db.query('SELECT id, revoked_at FROM refresh_families WHERE user_id = $1 ORDER BY id', [user.id]),
    })
    await signIn(app, client, user)
    const before = await state()
    const good = 'a brand new passphrase'
    const bad: [string, object | string][] = [
      ['a token that is a number', { token: 123456, password: good }],
      ['a token that is an array', { token: [tok], password: good }],
      ['a password that is a number', { token: tok, password: 1234567890 }],
      ['a password that is null', { token: tok, password: null }],
      ['no password', { token: tok }],
      ['no token', { password: good }],
      ['an empty token', { token: '', password: good }],
      ['a token of 257 characters', { token: 'x'.repeat(257), password: good }],
      ['a short password', { token: tok, password: 'short' }],
      ['a password of 257 characters', { token: tok, password: 'x'.repeat(257) }],
      ['a password with a NUL', { token: tok, password: 'nul \u0000 in the middle' }],
      ['an unknown field', { token: tok, password: good, email: user.email }],
      ['__proto__', `{"token": "${tok}", "password": "${good}", "__proto__": {"x": 1}}`],
      ['an array', `[{"token": "${tok}", "password": "${good}"}]`],
      ['null', 'null'],
      ['not JSON', `{"token": "${tok}", "password": `],
      ['an empty body', ''],
    ]
    for (const [what, payload] of bad) {
      const res = await reset(payload)
      t.equal(res.statusCode, 400, what)
      t.equal(res.json().error, 'invalid_request', `${what}: invalid_request`)
    }
    t.same((await reset({ token: tok, password: 'short' })).json().error_description, 'Invalid body field "password": must NOT have fewer than 8 characters.')
    t.same((await reset({ token: tok, password: good, email: 'x' })).json().error_description, 'Unknown field "email".')
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await reset(new URLSearchParams({ token: tok, password: good }).toString(), { 'content-type': type })
      t.equal(res.statusCode, 415, `a ${type.split(';')[0]} body`)
      t.same(res.json(), { error: 'invalid_request', error_description: 'Unsupported Content-Type; send application/json.' })
    }
    for (const [what, payload] of [
      ['an email that is a number', { email: 42 }],
      ['no email', {}],
      ['an unknown field', { email: user.email, password: 'x' }],
      ['not JSON', '{"email": '],
    ] as const) {
      const res = await forgot(payload)
      t.equal(res.statusCode, 400, `forgot: ${what}`)
      t.equal(res.json().error, 'invalid_request')
    }
    t.equal(
      (await forgot(`email=${encodeURIComponent(user.email)}`, { 'content-type': 'application/x-www-form-urlencoded' })).statusCode,
      415,
      'forgot: a form',
    )
    t.same(await state(), before, 'nothing changed: password, lockout, token, sessions')
    // Had any of them sent a mail, it would arrive before this one's.
    const sent = smtp.messages.length
    const sentinel = await makeUser(app)
    t.same((await mailFor(t, sentinel.email)).envelopeTo, [sentinel.email])
    t.equal(smtp.messages.length, sent + 1, 'no mail was sent for the bad requests')

    const ok = await reset({ token: tok, password: good })
    t.equal(ok.statusCode, 200, 'and the token still works')
    t.equal((await signInWith(user.email, good)).statusCode, 200)
  })

  t.test('without SMTP_URL, outside production: the link is logged instead, and works', async (t) => {
    const sent = smtp.messages.length
    const { app: dev, lines } = await withLog(t, { NODE_ENV: 'development' })
    const user = await makeUser(dev, { password: 'the old password' })
    const res = await dev.inject({ method: 'POST', url: '/password/forgot', payload: { email: user.email } })
    t.equal(res.statusCode, 202)
    t.same(res.json(), ACCEPTED, 'the same answer')
    const line = await until('the link is logged', 10_000, () => lines.find((l) => l.msg === 'password-reset mail not sent (SMTP_URL is not set); the link'))
    t.match(line, { level: 30, to: user.email, link: new RegExp(`^${config.issuer.replace(/[.:/]/g, '\\$&')}/reset-password\\?token=[A-Za-z0-9_-]{43}$`) })
    const tok = new URL(String(line.link)).searchParams.get('token')!
    t.same(
      (await resetRows(user.id)).map((r) => r.token_hash),
      [sha256(tok)],
      'the link holds the stored token',
    )
    t.equal(smtp.messages.length, sent, 'no mail server was used')
    t.equal((await dev.inject({ method: 'POST', url: '/password/reset', payload: { token: tok, password: 'set from the log' } })).statusCode, 200)
    t.equal((await signInWith(user.email, 'set from the log')).statusCode, 200, 'the logged link works')
  })

  t.test('without SMTP_URL in production: a warning, never the link', async (t) => {
    const { app: prod, lines } = await withLog(t, { NODE_ENV: 'production' })
    const user = await makeUser(prod)
    const res = await prod.inject({ method: 'POST', url: '/password/forgot', payload: { email: user.email } })
    t.equal(res.statusCode, 202)
    t.same(res.json(), ACCEPTED)
    const warning = await until('the warning is logged', 10_000, () => lines.find((l) => l.msg === 'password-reset mail not sent: SMTP_URL is not set'))
    t.equal(warning.level, 40, 'a warning')
    t.equal((await resetRows(user.id)).length, 0, 'no token is made: no one could receive it, and it would cancel an older link')
    const text = lines.map((l) => JSON.stringify(l)).join('\n')
    t.notMatch(text, /reset-password|token=/, 'and no link is in the log')
  })

  t.test('no header injection: MAIL_FROM with a line break is refused at start; an address can never hold one', async (t) => {
    for (const from of ['Tessera <id@example.com>\r\nBcc: eve@example.com', 'id@example.com\nBcc: eve@example.com', 'id@example.com\rX-Evil: 1']) {
      let err: unknown
      try {
        loadConfig({ NODE_ENV: 'test', SMTP_URL: smtp.url, MAIL_FROM: from })
      } catch (e) {
        err = e
      }
      t.ok(err instanceof ConfigError, `${JSON.stringify(from)}: a ConfigError`)
      t.match((err as Error | undefined)?.message, /^Invalid MAIL_FROM=/, 'naming MAIL_FROM')
    }
    t.throws(
      () => createMailer({ smtpUrl: smtp.url, mailFrom: 'a@example.com\r\nBcc: eve@example.com', nodeEnv: 'test' }, { info() {}, warn() {} }),
      HeaderInjection,
      'the mailer refuses it too, should a configuration get past the check',
    )

    for (const email of [
      'eve@example.com\r\nBcc: victim@example.com',
      'eve@example.com\nBcc: victim@example.com',
      'eve\r\n@example.com',
      'eve@exa\rmple.com',
    ]) {
      const res = await app.inject({ method: 'POST', url: '/users', payload: { email, password: 'correct horse battery' } })
      t.equal(res.statusCode, 400, `sign-up refuses ${JSON.stringify(email)}`)
      t.same(res.json(), { error: 'invalid_request', error_description: 'Invalid field "email": not a valid email address.' })
      await t.rejects(
        createAccount(app.stores.users, { email, password: 'correct horse battery' }),
        { message: 'Invalid field "email": not a valid email address.' },
        'and so does the CLI path (tessera users create)',
      )
    }
    const trailing = await app.inject({ method: 'POST', url: '/users', payload: { email: 'trailing@example.com\r\n', password: 'correct horse battery' } })
    t.equal(trailing.statusCode, 201, 'a trailing line break is whitespace: trimmed off, as any other')
    t.equal(trailing.json().email, 'trailing@example.com')
    t.same(await db.query('SELECT email FROM users WHERE strpos(email, chr(13)) > 0 OR strpos(email, chr(10)) > 0'), [], 'no stored address holds CR or LF')
  })

  /** An app on the same database without SMTP_URL, logging (pino, JSON) to lines this test reads. */
  async function withLog(t: Test, env: Record<string, string>) {
    const lines: Record<string, unknown>[] = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l))
        done()
      },
    })
    const other = await buildApp({
      config: testConfig({ ...env, LOG_LEVEL: 'info', MAIL_FROM, KEY_ENCRYPTION_KEY: kek }),
      db,
      clock,
      logger: pino(loggerOptions('info'), sink),
    })
    t.teardown(() => other.close())
    await other.ready()
    t.equal(other.config.smtpUrl, undefined, 'no SMTP_URL')
    return { app: other, lines }
  }
})
