// The retention job (plugins/maintenance.ts, docs/endpoints.md#audit-events), run by hand with a
// frozen clock: what it deletes and what it keeps, to the second, measured on the app's clock
// (not the database's), and in batches: a backlog of any size goes in one run.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { makeClient, makeUser } from '../helpers/factories.js'

const DAY = 86_400

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app, db } = await build(t, leg, { clock, env: { RETENTION_GRACE: '7d', AUDIT_RETENTION: '400d', PASSWORD_RESET_TTL: '1h' } })
  const client = await makeClient(app)
  const user = await makeUser(app)
  /** `seconds` from the frozen now. */
  const at = (seconds: number) => new Date(clock.now() + seconds * 1000)
  const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

  // What the job reads, by name; everything else in these tables is cleared first.
  const left = async () => ({
    denials: (await db.query<{ jti: string }>('SELECT jti FROM revoked_tokens ORDER BY jti')).map((r) => r.jti),
    families: (await db.query<{ current_jti: string }>('SELECT current_jti FROM refresh_families ORDER BY current_jti')).map((r) => r.current_jti),
    resetTokens: (await db.query<{ token_hash: string }>('SELECT token_hash FROM password_reset_tokens ORDER BY token_hash')).map((r) => r.token_hash),
    auditEvents: (await db.query<{ type: string }>('SELECT type FROM audit_events ORDER BY type')).map((r) => r.type),
  })
  const clear = () => db.exec('DELETE FROM revoked_tokens; DELETE FROM refresh_families; DELETE FROM password_reset_tokens; DELETE FROM audit_events')

  const denial = (jti: string, expiresAt: Date) => db.query('INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2)', [jti, expiresAt])
  let n = 0
  const family = (name: string, f: { end: Date; idleEnd?: Date; revokedAt?: Date }) =>
    db.query(
      `INSERT INTO refresh_families (id, user_id, client_id, scope, current_jti, current_kid, current_iat, current_exp, expires_at, idle_expires_at, revoked_at, revoked_reason)
       VALUES ($1, $2, $3, 'read', $4, 'kid', 0, 0, $5, $6, $7, $8)`,
      [uuid(++n), user.id, client.id, name, f.end, f.idleEnd ?? f.end, f.revokedAt ?? null, f.revokedAt ? 'signed_out' : null],
    )
  const resetToken = (name: string, r: { expiresAt: Date; usedAt?: Date }) =>
    db.query('INSERT INTO password_reset_tokens (id, user_id, token_hash, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)', [
      uuid(++n),
      user.id,
      name,
      r.expiresAt,
      r.usedAt ?? null,
    ])
  const event = (name: string, when: Date) => db.query('INSERT INTO audit_events (type, at) VALUES ($1, $2)', [name, when])

  t.test('what goes and what stays, to the second', async (t) => {
    await clear()
    // Token denials: kept until the token would have expired anyway.
    await denial('expired a day ago', at(-DAY))
    await denial('expires now', at(0))
    await denial('expires in a second', at(1))
    await denial('expires tomorrow', at(DAY))
    // Families: kept RETENTION_GRACE (7 d) past their absolute end, whatever else.
    await family('ended 8 d ago', { end: at(-8 * DAY) })
    await family('ended 7 d and 1 s ago', { end: at(-7 * DAY - 1) })
    await family('ended exactly 7 d ago', { end: at(-7 * DAY) })
    await family('ended yesterday', { end: at(-DAY) })
    await family('live', { end: at(29 * DAY), idleEnd: at(6 * DAY) })
    await family('revoked, its end ahead', { end: at(20 * DAY), revokedAt: at(-10 * DAY) })
    await family('revoked and idle long ago, its end ahead', { end: at(DAY), idleEnd: at(-10 * DAY), revokedAt: at(-10 * DAY) })
    await family('revoked, ended 8 d ago', { end: at(-8 * DAY), revokedAt: at(-30 * DAY) })
    // Reset tokens: gone once used or expired.
    await resetToken('used', { expiresAt: at(3540), usedAt: at(-60) })
    await resetToken('expired a second ago', { expiresAt: at(-1) })
    await resetToken('expires now', { expiresAt: at(0) })
    await resetToken('used and expired', { expiresAt: at(-DAY), usedAt: at(-DAY - 60) })
    await resetToken('fresh', { expiresAt: at(3600) })
    // Audit events: kept AUDIT_RETENTION (400 d).
    await event('401 d old', at(-401 * DAY))
    await event('400 d and 1 s old', at(-400 * DAY - 1))
    await event('exactly 400 d old', at(-400 * DAY))
    await event('399 d old', at(-399 * DAY))
    await event('now', at(0))

    t.equal(await app.maintenance.purge(), 11, 'eleven rows deleted, in all')
    t.same(
      await left(),
      {
        denials: ['expires in a second', 'expires tomorrow'],
        families: ['ended exactly 7 d ago', 'ended yesterday', 'live', 'revoked and idle long ago, its end ahead', 'revoked, its end ahead'],
        resetTokens: ['fresh'],
        auditEvents: ['399 d old', 'exactly 400 d old', 'now'],
      },
      'exactly these are left',
    )
    t.same(await db.query('SELECT id FROM users WHERE id = $1', [user.id]), [{ id: user.id }], 'the user is untouched')
    t.same(await db.query('SELECT id FROM clients WHERE id = $1', [client.id]), [{ id: client.id }], 'and so is the client')
    t.equal(await app.maintenance.purge(), 0, 'a second run finds nothing')

    clock.advance(1)
    t.equal(await app.maintenance.purge(), 3, "a second later, by the app's clock, the rows on each boundary go")
    t.same(await left(), {
      denials: ['expires tomorrow'],
      families: ['ended yesterday', 'live', 'revoked and idle long ago, its end ahead', 'revoked, its end ahead'],
      resetTokens: ['fresh'],
      auditEvents: ['399 d old', 'now'],
    })
  })

  t.test('in batches: a backlog larger than a batch goes in one run', async (t) => {
    await clear()
    const long = at(-500 * DAY)
    await db.query("INSERT INTO audit_events (type, at) SELECT 'old ' || i, $1 FROM generate_series(1, 2500) AS i", [long])
    await db.query("INSERT INTO revoked_tokens (jti, expires_at) SELECT 'old ' || i, $1 FROM generate_series(1, 1000) AS i", [long])
    await db.query(
      `INSERT INTO refresh_families (id, user_id, client_id, scope, current_jti, current_kid, current_iat, current_exp, expires_at, idle_expires_at)
       SELECT gen_random_uuid(), $1, $2, 'read', 'old ' || i, 'kid', 0, 0, $3, $3 FROM generate_series(1, 1001) AS i`,
      [user.id, client.id, long],
    )
    await db.query(
      "INSERT INTO password_reset_tokens (id, user_id, token_hash, expires_at) SELECT gen_random_uuid(), $1, 'old ' || i, $2 FROM generate_series(1, 999) AS i",
      [user.id, long],
    )
    await denial('live', at(60))
    await family('live', { end: at(DAY) })
    await resetToken('fresh', { expiresAt: at(60) })
    await event('recent', at(-DAY))

    t.equal(await app.maintenance.purge(), 2500 + 1000 + 1001 + 999, 'every old row, of every kind, in one run')
    t.same(await left(), { denials: ['live'], families: ['live'], resetTokens: ['fresh'], auditEvents: ['recent'] }, 'and only the live ones left')
    t.equal(await app.maintenance.purge(), 0)
  })

  t.test('browser sessions that ended or expired, and expired authorization codes, go; live ones stay', async (t) => {
    await clear()
    await db.exec('DELETE FROM browser_sessions; DELETE FROM authorization_codes')
    const session = (id: string, s: { expiresAt: Date; endedAt?: Date }) =>
      db.query('INSERT INTO browser_sessions (id, user_id, auth_time, expires_at, ended_at) VALUES ($1, $2, $3, $4, $5)', [
        id,
        user.id,
        at(-DAY),
        s.expiresAt,
        s.endedAt ?? null,
      ])
    const code = (hash: string, expiresAt: Date) =>
      db.query(
        `INSERT INTO authorization_codes (code_hash, client_id, user_id, session_id, redirect_uri, code_challenge, scope, auth_time, expires_at)
         VALUES ($1, $2, $3, 's', 'https://app.example/cb', 'c', 'openid', $4, $5)`,
        [hash, client.id, user.id, at(-60), expiresAt],
      )
    await session('expired', { expiresAt: at(-1) })
    await session('signed out', { expiresAt: at(DAY), endedAt: at(-1) })
    await session('live', { expiresAt: at(DAY) })
    await code('expired', at(-1))
    await code('live', at(30))
    t.equal(await app.maintenance.purge(), 3, 'two sessions and one code')
    t.same(
      (await db.query<{ id: string }>('SELECT id FROM browser_sessions')).map((r) => r.id),
      ['live'],
    )
    t.same(
      (await db.query<{ code_hash: string }>('SELECT code_hash FROM authorization_codes')).map((r) => r.code_hash),
      ['live'],
    )
  })
})
