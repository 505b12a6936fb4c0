// The admin API (docs/endpoints.md#admin-api): who may call it (an enabled admin, as the
// database says now, with a token of its own audience and scope), the users and what an admin
// changes on them, the clients, and the audit trail; lists a page at a time, and every bad
// query, id or body a JSON error.
import { createHash } from 'node:crypto'
import t, { type Test } from 'tap'
import { encodeCursor } from '../../src/lib/cursor.js'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { adminToken, decode, lockoutRow, makeClient, makeUser, post, setLockout, signIn, type TestClient, token } from '../helpers/factories.js'

interface AuditRow {
  type: string
  actor_id: string | null
  subject_id: string | null
  client_id: string | null
  details: Record<string, unknown> | null
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app, db, config } = await build(t, leg, { clock })
  const issuer = config.issuer
  const as = (bearer: string) => ({ authorization: `Bearer ${bearer}` })

  // Every user and client of this app, in the order they were made: the lists must show exactly these.
  const users: string[] = []
  const clients: string[] = []
  const newUser = async (opts: Parameters<typeof makeUser>[1] = {}) => {
    const u = await makeUser(app, opts)
    users.push(u.id)
    return u
  }
  const newClient = async (r: Parameters<typeof makeClient>[1] = {}) => {
    const c = await makeClient(app, r)
    clients.push(c.id)
    return c
  }

  const everyday = await newClient()
  const adminConsole = await newClient({
    name: 'console',
    grantTypes: ['password', 'refresh_token'],
    scopes: ['admin'],
    audience: `${issuer}/admin`,
  })
  const admin = await newUser({ role: 'admin' })
  let bearer = await adminToken(app, adminConsole, admin)

  const call = (method: Method, url: string, payload?: object | string, token = bearer, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { ...as(token), ...headers }, ...(payload === undefined ? {} : { payload }) })
  const get = (url: string, token = bearer) => call('GET', url, undefined, token)
  const patch = (id: string, payload: object | string, token = bearer) => call('PATCH', `/admin/users/${id}`, payload, token)
  const auditOf = (subject: string) =>
    db.query<AuditRow>('SELECT type, actor_id, subject_id, client_id, details FROM audit_events WHERE subject_id = $1 ORDER BY id', [subject])
  const clientAudit = (clientId: string) =>
    db.query<AuditRow>("SELECT type, actor_id, subject_id, client_id, details FROM audit_events WHERE client_id = $1 AND type LIKE 'client.%' ORDER BY id", [
      clientId,
    ])
  const createdAt = async (table: 'users' | 'clients', id: string) =>
    ((await db.query<{ created_at: Date }>(`SELECT created_at FROM ${table} WHERE id = $1`, [id]))[0]!.created_at as Date).toISOString()

  /** Walks a list with ?limit=, checking the shape of each page; returns the pages. */
  async function walk(t: Test, path: string, limit: number, token = bearer): Promise<Record<string, unknown>[][]> {
    const pages: Record<string, unknown>[][] = []
    let cursor: string | null = null
    do {
      const sep = path.includes('?') ? '&' : '?'
      const res = await get(`${path}${sep}limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, token)
      t.equal(res.statusCode, 200, `${path}: page ${pages.length + 1}`)
      const body = res.json() as { items: Record<string, unknown>[]; next_cursor: string | null }
      t.same(Object.keys(body).sort(), ['items', 'next_cursor'], 'a page is {items, next_cursor}')
      pages.push(body.items)
      cursor = body.next_cursor
      if (cursor !== null) t.equal(body.items.length, limit, 'a page with a next_cursor is full')
    } while (cursor !== null && pages.length < 100)
    t.equal(cursor, null, 'the last page says so: next_cursor null')
    t.ok(pages.at(-1)!.length > 0, 'and it is not an empty page')
    return pages
  }

  t.test('users: every one exactly once, oldest first, a page at a time; filters', async (t) => {
    const ada = await newUser({ email: 'Ada.Lovelace@Example.com' })
    const grace = await newUser({ role: 'admin' })
    const off = await newUser()
    const disabledAt = new Date(clock.now() - 60_000)
    await app.stores.users.setDisabled(off.id, disabledAt)
    await newUser()
    await newUser()

    const pages = await walk(t, '/admin/users', 2)
    t.same(
      pages.map((p) => p.length),
      [2, 2, 2],
      'six users, two a page: a full last page, and no empty one after it',
    )
    t.same(
      pages.flat().map((u) => u.id),
      users,
      'every user exactly once, in creation order',
    )
    for (const u of pages.flat()) {
      t.same(
        Object.keys(u).sort(),
        ['created_at', 'disabled', 'disabled_at', 'email', 'failed_logins', 'id', 'locked_until', 'name', 'role'],
        `${u.email}: the admin view, never a password hash`,
      )
    }
    const all = await get('/admin/users')
    t.same(
      all.json().items.map((u: { id: string }) => u.id),
      users,
      'without ?limit=, one page of up to 50',
    )
    t.equal(all.json().next_cursor, null)
    t.notMatch(all.body, /argon2|password/, 'no hash anywhere in the answer')
    t.same((await get('/admin/users?limit=200')).json().items.length, users.length, 'limit=200 is allowed')

    const emails = async (q: string) => (await get(`/admin/users?${q}`)).json().items.map((u: { id: string }) => u.id)
    t.same(await emails('email=ada.lovelace%40example.com'), [ada.id], 'email: exact')
    t.same(await emails('email=ADA.LOVELACE%40EXAMPLE.COM'), [ada.id], 'email: case-insensitive')
    t.same(await emails('email=%20Ada.Lovelace%40example.com%20'), [ada.id], 'email: surrounding spaces do not matter')
    t.same(await emails('email=ada.lovelace'), [], 'a prefix matches nothing')
    t.same(await emails('email=example.com'), [], 'nor does the domain')
    t.same(await emails('email=ada%25'), [], 'nor a LIKE pattern')
    t.same(await emails('role=admin'), [admin.id, grace.id], 'role=admin')
    t.same(
      await emails('role=user'),
      users.filter((id) => id !== admin.id && id !== grace.id),
      'role=user',
    )
    t.same(await emails('disabled=true'), [off.id], 'disabled=true')
    t.same(
      await emails('disabled=false'),
      users.filter((id) => id !== off.id),
      'disabled=false',
    )
    t.same(await emails('role=admin&disabled=true'), [], 'filters combine')
    const usersPaged = await walk(t, '/admin/users?role=user&disabled=false', 2)
    t.same(
      usersPaged.flat().map((u) => u.id),
      users.filter((id) => id !== admin.id && id !== grace.id && id !== off.id),
      'filters and pages combine',
    )

    const one = await get(`/admin/users/${off.id}`)
    t.equal(one.statusCode, 200)
    t.same(
      one.json(),
      {
        id: off.id,
        email: off.email,
        name: null,
        role: 'user',
        created_at: await createdAt('users', off.id),
        disabled: true,
        disabled_at: disabledAt.toISOString(),
        locked_until: null,
        failed_logins: 0,
      },
      'one user, with its state',
    )
    const lockedUntil = new Date(clock.now() + 15 * 60_000)
    await setLockout(db, ada.email, 10, lockedUntil)
    t.same(
      (await get(`/admin/users/${ada.id}`)).json(),
      {
        id: ada.id,
        email: 'ada.lovelace@example.com',
        name: null,
        role: 'user',
        created_at: await createdAt('users', ada.id),
        disabled: false,
        disabled_at: null,
        locked_until: lockedUntil.toISOString(),
        failed_logins: 10,
      },
      'a locked account shows its lockout',
    )
    await setLockout(db, ada.email, 0, null)
  })

  t.test('who may call it', async (t) => {
    const user = await newUser()
    const everydayAdmin = (await signIn(app, everyday, admin)).access_token
    const withAdminScope = await newClient({ scopes: ['read', 'admin'] })
    const otherAudienceWithScope = (await signIn(app, withAdminScope, admin, { scope: 'read admin' })).access_token
    t.equal(decode(otherAudienceWithScope).payload.scope, 'read admin', 'a token with scope admin, for the default audience')
    const noScopeClient = await newClient({ audience: `${issuer}/admin`, scopes: ['read'] })
    const adminAudienceNoScope = (await signIn(app, noScopeClient, admin)).access_token
    t.equal(decode(adminAudienceNoScope).payload.aud, `${issuer}/admin`)

    const asked = await token(app, adminConsole, { grant_type: 'password', username: user.email, password: user.password, scope: 'admin' })
    t.equal(asked.statusCode, 400, 'a user who is not an admin cannot get the admin scope')
    t.same(asked.json(), { error: 'invalid_scope', error_description: 'Scope not allowed for this account: admin.' })
    const byDefault = await signIn(app, adminConsole, user)
    t.notMatch(byDefault.scope, /admin/, 'nor is it given by default')
    const nonAdmin = byDefault.access_token

    const [kid] = (await db.query<{ kid: string }>("SELECT kid FROM signing_keys WHERE state = 'active'")).map((r) => r.kid)
    const keysBefore = await db.query('SELECT kid, state FROM signing_keys ORDER BY kid')
    const clientsBefore = await db.query('SELECT id FROM clients ORDER BY id')
    const routes: [Method, string, object?][] = [
      ['GET', '/admin/users'],
      ['GET', `/admin/users/${user.id}`],
      ['PATCH', `/admin/users/${user.id}`, { disabled: true, role: 'admin' }],
      ['GET', '/admin/clients'],
      ['POST', '/admin/clients', { name: 'sneaky', grant_types: ['client_credentials'] }],
      ['GET', `/admin/clients/${everyday.id}`],
      ['DELETE', `/admin/clients/${everyday.id}`],
      ['GET', '/admin/keys'],
      ['POST', '/admin/keys/rotate', { now: true }],
      ['POST', `/admin/keys/${kid}/retire`],
      ['GET', '/admin/audit-events'],
    ]
    for (const [method, url, payload] of routes) {
      const what = `${method} ${url.replace(/\/[^/]{20,}/, '/…')}`
      const none = await app.inject({ method, url, ...(payload ? { payload } : {}) })
      t.equal(none.statusCode, 401, `${what}: no token`)
      t.equal(none.headers['www-authenticate'], 'Bearer realm="tessera"', `${what}: the challenge, without an error code`)
      t.same(none.json(), { error: 'invalid_token', error_description: 'An access token is required.' })
      const forged = await call(method, url, payload, `${everydayAdmin.slice(0, -4)}AAAA`)
      t.equal(forged.statusCode, 401, `${what}: a token that does not verify`)
      t.match(forged.headers['www-authenticate'], /^Bearer realm="tessera", error="invalid_token"/)

      for (const [who, bearerToken, description] of [
        ["an admin's everyday token", everydayAdmin, `The admin API takes only tokens issued for ${issuer}/admin.`],
        ['scope admin, but for another audience', otherAudienceWithScope, `The admin API takes only tokens issued for ${issuer}/admin.`],
        ['the admin audience, without scope admin', adminAudienceNoScope, 'The admin API needs scope "admin".'],
        ["a user's token of the admin audience", nonAdmin, 'The admin API needs scope "admin".'],
      ] as const) {
        const res = await call(method, url, payload, bearerToken)
        t.equal(res.statusCode, 403, `${what}: ${who}`)
        t.same(res.json(), { error: 'forbidden', error_description: description }, `${what}: ${who}: forbidden`)
      }
    }
    t.same(await db.query('SELECT kid, state FROM signing_keys ORDER BY kid'), keysBefore, 'no key was rotated or retired')
    t.same(await db.query('SELECT id FROM clients ORDER BY id'), clientsBefore, 'no client was created or deleted')
    t.match((await get(`/admin/users/${user.id}`)).json(), { role: 'user', disabled: false }, 'the user was not changed')

    // A demoted or disabled admin loses access at once, whatever the token says.
    const other = await newUser({ role: 'admin' })
    const otherBearer = await adminToken(app, adminConsole, other)
    t.equal((await get('/admin/users', otherBearer)).statusCode, 200, 'an enabled admin')
    t.equal((await patch(other.id, { role: 'user' })).statusCode, 200, 'demoted by another admin')
    t.same(decode(otherBearer).payload.roles, ['admin'], 'the token still says admin')
    const demoted = await get('/admin/users', otherBearer)
    t.equal(demoted.statusCode, 403, 'demoted: refused at once')
    t.same(demoted.json(), { error: 'forbidden', error_description: 'The admin API is for enabled admins.' })
    t.equal((await patch(other.id, { role: 'admin' })).statusCode, 200)
    t.equal((await get('/admin/users', otherBearer)).statusCode, 200, 'promoted again: the same token works again')
    t.equal((await patch(other.id, { disabled: true })).statusCode, 200, 'disabled by another admin')
    const disabled = await get('/admin/users', otherBearer)
    t.equal(disabled.statusCode, 401, 'disabled: its session is over')
    t.match(disabled.headers['www-authenticate'], /error="invalid_token"/)
    t.equal(disabled.json().error, 'invalid_token')

    // Disabled behind the API's back (families still live): the token dies all the same.
    const third = await newUser({ role: 'admin' })
    const thirdBearer = await adminToken(app, adminConsole, third)
    await app.stores.users.setDisabled(third.id, new Date(clock.now()))
    t.equal((await get('/admin/users', thirdBearer)).statusCode, 401, 'disabled in the database only: refused too')
  })

  t.test('unknown and malformed ids are 404 JSON', async (t) => {
    const unknownUser = '00000000-0000-4000-8000-000000000000'
    for (const [method, payload] of [
      ['GET', undefined],
      ['PATCH', { disabled: true }],
    ] as const) {
      for (const id of [unknownUser, 'not-a-uuid', `${users[0]}x`, "'; DROP TABLE users; --", 'a/b', '\u0000', 'x'.repeat(150)]) {
        const res = await call(method, `/admin/users/${encodeURIComponent(id)}`, payload)
        t.equal(res.statusCode, 404, `${method} user ${JSON.stringify(id).slice(0, 40)}`)
        t.same(res.json(), { error: 'not_found', error_description: 'No such user.' }, `${method} user ${JSON.stringify(id).slice(0, 40)}: not_found`)
      }
    }
    for (const method of ['GET', 'DELETE'] as const) {
      for (const id of ['no-such-client', "'; DROP TABLE clients; --", 'a/b', `${everyday.id}x`, '\u0000', 'x'.repeat(150)]) {
        const res = await call(method, `/admin/clients/${encodeURIComponent(id)}`)
        t.equal(res.statusCode, 404, `${method} client ${JSON.stringify(id).slice(0, 40)}`)
        t.same(res.json(), { error: 'not_found', error_description: 'No such client.' }, `${method} client ${JSON.stringify(id).slice(0, 40)}: not_found`)
      }
    }
    t.equal((await get(`/admin/clients/${everyday.id}`)).statusCode, 200, 'and the client whose id was mangled is still there')
    // Not even an id: a path that is not valid percent-encoding. Still the contract's JSON error.
    for (const url of ['/admin/users/%E0%A4%A', '/admin/clients/%E0%A4%A']) {
      const res = await get(url)
      t.equal(res.statusCode, 400, `${url}: 400`)
      t.same(Object.keys(res.json()).sort(), ['error', 'error_description'], `${url}: the error shape, nothing of the framework's`)
      t.equal(res.json().error, 'invalid_request', `${url}: invalid_request`)
    }
  })

  t.test('bad query parameters are 400 invalid_request', async (t) => {
    const usersCursor = (await get('/admin/users?limit=1')).json().next_cursor as string
    const clientsCursor = (await get('/admin/clients?limit=1')).json().next_cursor as string
    const auditCursor = (await get('/admin/audit-events?limit=1')).json().next_cursor as string
    t.ok(usersCursor && clientsCursor && auditCursor, 'each list has a next page')

    const bad: [string, string][] = [
      ['/admin/users?foo=1', 'an unknown parameter'],
      ['/admin/users?limit=0', 'limit=0'],
      ['/admin/users?limit=201', 'limit=201'],
      ['/admin/users?limit=abc', 'limit=abc'],
      ['/admin/users?limit=-1', 'limit=-1'],
      ['/admin/users?limit=2.5', 'limit=2.5'],
      ['/admin/users?limit=', 'an empty limit'],
      ['/admin/users?limit=2&limit=3', 'limit twice'],
      ['/admin/users?disabled=maybe', 'disabled=maybe'],
      ['/admin/users?disabled=1', 'disabled=1'],
      ['/admin/users?role=root', 'role=root'],
      ['/admin/users?cursor=', 'an empty cursor'],
      ['/admin/users?cursor=!!!', 'a garbage cursor'],
      ['/admin/users?cursor=abc', 'a cursor that is not JSON'],
      [`/admin/users?cursor=${encodeCursor(['yesterday', users[0]!])}`, 'a cursor with a bad time'],
      [`/admin/users?cursor=${auditCursor}`, 'an audit-events cursor on users'],
      [`/admin/users?cursor=${clientsCursor}`, 'a clients cursor on users'],
      [`/admin/users?cursor=${encodeCursor(['2026-01-01T00:00:00.000Z', 'not-a-uuid'])}`, 'a forged users cursor'],
      ['/admin/clients?email=a%40example.com', 'a users filter on clients'],
      ['/admin/clients?limit=0', 'clients: limit=0'],
      ['/admin/clients?limit=201', 'clients: limit=201'],
      ['/admin/clients?cursor=!!!', 'clients: a garbage cursor'],
      [`/admin/clients?cursor=${auditCursor}`, 'an audit-events cursor on clients'],
      [`/admin/clients?cursor=${usersCursor}`, 'a users cursor on clients'],
      ['/admin/audit-events?since=yesterday', 'since=yesterday'],
      ['/admin/audit-events?until=2026-13-01T00:00:00Z', 'an impossible until'],
      ['/admin/audit-events?since=2026-11-23', 'a date without a time'],
      ['/admin/audit-events?since=2026-11-23T12:00:00Z&until=2026-11-23T12:00:00Z', 'since = until'],
      ['/admin/audit-events?since=2026-11-23T12:00:01Z&until=2026-11-23T12:00:00Z', 'since after until'],
      ['/admin/audit-events?limit=201', 'audit: limit=201'],
      ['/admin/audit-events?cursor=abc', 'audit: a garbage cursor'],
      [`/admin/audit-events?cursor=${usersCursor}`, 'a users cursor on audit events'],
      [`/admin/audit-events?cursor=${encodeCursor(['99999999999999999999'])}`, 'an audit cursor of 20 digits'],
      [`/admin/audit-events?cursor=${encodeCursor(['9999999999999999999'])}`, 'an audit cursor past the largest bigint'],
      ['/admin/audit-events?actor=x', 'an unknown audit filter'],
    ]
    for (const [url, what] of bad) {
      const res = await get(url)
      t.equal(res.statusCode, 400, what)
      t.equal(res.json().error, 'invalid_request', `${what}: invalid_request`)
      t.type(res.json().error_description, 'string', `${what}: says why`)
    }
    t.same((await get('/admin/users?foo=1')).json().error_description, 'Unknown field "foo".', 'names the unknown parameter')
    t.same((await get('/admin/users?cursor=!!!')).json(), { error: 'invalid_request', error_description: 'The cursor is not one this API gave.' })
    t.same((await get('/admin/audit-events?since=2026-11-23T12:00:00Z&until=2026-11-23T12:00:00Z')).json(), {
      error: 'invalid_request',
      error_description: 'since must be before until.',
    })
  })

  t.test('PATCH disabled: every session ends at once; enabled again, the user signs in anew', async (t) => {
    const user = await newUser()
    const phone = await signIn(app, everyday, user)
    const laptop = await signIn(app, everyday, user)
    const sids = [phone, laptop].map((s) => decode(s.access_token).payload.sid as string)
    clock.advance(5)

    const off = await patch(user.id, { disabled: true })
    t.equal(off.statusCode, 200)
    t.match(off.json(), { id: user.id, disabled: true, disabled_at: new Date(clock.now()).toISOString(), role: 'user' }, 'the user as it is now')
    for (const s of [phone, laptop]) {
      const refresh = await token(app, everyday, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
      t.equal(refresh.statusCode, 400)
      t.equal(refresh.json().error, 'invalid_grant', 'its refresh tokens fail')
      t.same((await post(app, '/introspect', everyday, { token: s.access_token })).json(), { active: false }, 'its access tokens are inactive')
      t.equal((await app.inject({ url: '/me', headers: as(s.access_token) })).statusCode, 401, 'and refused at /me')
    }
    const families = await db.query<{ id: string; revoked_reason: string | null }>(
      'SELECT id, revoked_reason FROM refresh_families WHERE user_id = $1 ORDER BY id',
      [user.id],
    )
    t.same(
      families,
      [...sids].sort().map((id) => ({ id, revoked_reason: 'user_disabled' })),
      'every family revoked, as user_disabled',
    )
    t.same(
      (await token(app, everyday, { grant_type: 'password', username: user.email, password: user.password })).json(),
      { error: 'invalid_grant', error_description: 'Invalid email or password.' },
      'and no new sign-in',
    )
    clock.advance(5)
    const again = await patch(user.id, { disabled: true })
    t.equal(again.json().disabled_at, new Date(clock.now() - 5000).toISOString(), 'disabling twice keeps the first time')

    const on = await patch(user.id, { disabled: false })
    t.equal(on.statusCode, 200)
    t.match(on.json(), { disabled: false, disabled_at: null })
    t.equal(
      (await token(app, everyday, { grant_type: 'refresh_token', refresh_token: phone.refresh_token! })).json().error,
      'invalid_grant',
      'enabled again: the old sessions stay signed out',
    )
    t.equal((await app.inject({ url: '/me', headers: as(laptop.access_token) })).statusCode, 401, 'their access tokens too')
    const fresh = await signIn(app, everyday, user)
    t.equal((await app.inject({ url: '/me', headers: as(fresh.access_token) })).statusCode, 200, 'a new sign-in works')

    const rows = (await auditOf(user.id)).filter((r) => r.type !== 'signin.ok' && r.type !== 'signin.failed')
    const bySid = (a: AuditRow, b: AuditRow) => String(a.details?.sid).localeCompare(String(b.details?.sid))
    t.same(
      [rows[0], ...rows.slice(1, 3).sort(bySid), ...rows.slice(3)],
      [
        { type: 'user.disabled', actor_id: admin.id, subject_id: user.id, client_id: null, details: { via: 'api' } },
        ...[...sids].sort().map((sid) => ({
          type: 'family.revoked',
          actor_id: admin.id,
          subject_id: user.id,
          client_id: null,
          details: { sid, reason: 'user_disabled' },
        })),
        { type: 'user.enabled', actor_id: admin.id, subject_id: user.id, client_id: null, details: { via: 'api' } },
      ],
      'one row per change (a family.revoked per session), the admin as actor; nothing for the repeated disable',
    )
  })

  t.test('PATCH role: shows in the next token', async (t) => {
    const user = await newUser()
    const before = await signIn(app, everyday, user)
    t.same(decode(before.access_token).payload.roles, ['user'])

    const up = await patch(user.id, { role: 'admin' })
    t.equal(up.statusCode, 200)
    t.equal(up.json().role, 'admin')
    t.same(decode((await signIn(app, everyday, user)).access_token).payload.roles, ['admin'], 'a new sign-in says admin')
    const refreshed = await token(app, everyday, { grant_type: 'refresh_token', refresh_token: before.refresh_token! })
    t.same(decode(refreshed.json().access_token).payload.roles, ['admin'], 'so does the next refresh of an older session')
    const theirs = await adminToken(app, adminConsole, user)
    t.equal((await get('/admin/users', theirs)).statusCode, 200, 'and they may use the admin API')
    t.equal((await patch(user.id, { role: 'admin' })).statusCode, 200, 'the same role again: no change')

    const down = await patch(user.id, { role: 'user' })
    t.equal(down.json().role, 'user')
    t.equal((await get('/admin/users', theirs)).statusCode, 403, 'demoted: their admin token is refused at once')
    t.same(decode((await signIn(app, everyday, user)).access_token).payload.roles, ['user'])

    const rows = (await auditOf(user.id)).filter((r) => r.type.startsWith('user.'))
    t.same(
      rows,
      [
        { type: 'user.role_changed', actor_id: admin.id, subject_id: user.id, client_id: null, details: { via: 'api', from: 'user', to: 'admin' } },
        { type: 'user.role_changed', actor_id: admin.id, subject_id: user.id, client_id: null, details: { via: 'api', from: 'admin', to: 'user' } },
      ],
      'each change once, with from and to',
    )
  })

  t.test('PATCH locked: false clears a lockout', async (t) => {
    const user = await newUser()
    const until = new Date(clock.now() + 15 * 60_000)
    await setLockout(db, user.email, 10, until)
    t.match((await get(`/admin/users/${user.id}`)).json(), { failed_logins: 10, locked_until: until.toISOString() })
    const res = await patch(user.id, { locked: false })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { failed_logins: 0, locked_until: null, disabled: false })
    t.equal(await lockoutRow(db, user.email), undefined, 'stored')
    t.same(
      await auditOf(user.id),
      [{ type: 'user.unlocked', actor_id: admin.id, subject_id: user.id, client_id: null, details: { via: 'api' } }],
      'audit user.unlocked',
    )
  })

  t.test('PATCH: bad bodies change nothing; an admin cannot disable or demote themselves', async (t) => {
    const user = await newUser()
    await setLockout(db, user.email, 3, null)
    const state = async (id: string) => ({
      user: await db.query('SELECT role, disabled_at, password_hash, email, name FROM users WHERE id = $1', [id]),
      lockout: await db.query('SELECT count, locked_until FROM login_failures ORDER BY key'),
    })
    const before = await state(user.id)
    const bad: [string, object | string | undefined, string?][] = [
      ['an empty object', {}],
      ['locked: true', { locked: true }],
      ['an unknown field', { disabled: true, password_hash: 'x' }],
      ['email', { email: 'other@example.com' }],
      ['__proto__', '{"__proto__": {"role": "admin"}}'],
      ['disabled as a string', { disabled: 'true' }],
      ['disabled as null', { disabled: null }],
      ['a role that does not exist', { role: 'root' }],
      ['role as an array', { role: ['admin'] }],
      ['an array', '[{"disabled": true}]'],
      ['null', 'null'],
      ['not JSON', '{"disabled": tru'],
      ['no body at all', undefined],
    ]
    for (const [what, payload] of bad) {
      const res = await call('PATCH', `/admin/users/${user.id}`, payload, bearer, { 'content-type': 'application/json' })
      t.equal(res.statusCode, 400, what)
      t.equal(res.json().error, 'invalid_request', `${what}: invalid_request`)
    }
    t.equal((await patch(user.id, { disabled: true, password_hash: 'x' })).json().error_description, 'Unknown field "password_hash".', 'names the field')
    const form = await call('PATCH', `/admin/users/${user.id}`, 'disabled=true', bearer, { 'content-type': 'application/x-www-form-urlencoded' })
    t.equal(form.statusCode, 415, 'a form body')
    t.same(form.json(), { error: 'invalid_request', error_description: 'Unsupported Content-Type; send application/json.' })
    t.same(await state(user.id), before, 'nothing changed')
    t.same(await auditOf(user.id), [], 'and nothing was recorded')

    const adminBefore = await state(admin.id)
    for (const [what, payload] of [
      ['disable', { disabled: true }],
      ['demote', { role: 'user' }],
      ['unlock and demote', { locked: false, role: 'user' }],
    ] as const) {
      const res = await patch(admin.id, payload)
      t.equal(res.statusCode, 409, `themselves: ${what}`)
      t.same(res.json(), { error: 'conflict', error_description: 'An admin cannot disable or demote themselves; ask another admin.' })
    }
    t.same(await state(admin.id), adminBefore, 'the admin is unchanged')
    t.same(
      (await auditOf(admin.id)).filter((r) => r.type.startsWith('user.')),
      [],
      'nothing half applied, nothing recorded',
    )
    t.equal((await get('/admin/users')).statusCode, 200, 'and still an admin')
    t.equal((await patch(admin.id, { role: 'admin', disabled: false })).statusCode, 200, 'what changes nothing is allowed')
  })

  t.test('clients: register (the secret once), list, one, delete', async (t) => {
    const created = await call('POST', '/admin/clients', {
      name: 'billing service',
      grant_types: ['client_credentials'],
      scopes: ['read', 'write'],
      audience: 'billing',
    })
    t.equal(created.statusCode, 201)
    const c = created.json()
    clients.push(c.client_id)
    t.same(
      c,
      {
        client_id: c.client_id,
        name: 'billing service',
        public: false,
        cookie_delivery: false,
        grant_types: ['client_credentials'],
        scopes: ['read', 'write'],
        audience: 'billing',
        redirect_uris: [],
        post_logout_redirect_uris: [],
        first_party: false,
        reuse_leeway: null,
        created_at: await createdAt('clients', c.client_id),
        client_secret: c.client_secret,
      },
      'the client, and its secret',
    )
    t.match(c.client_secret, /^[A-Za-z0-9_-]{43,}$/, 'a 256-bit secret')
    const cc = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { authorization: basic(c.client_id, c.client_secret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    })
    t.equal(cc.statusCode, 200, 'the secret works at /token')
    t.match(decode(cc.json().access_token).payload, { sub: c.client_id, aud: 'billing', scope: 'read write' })
    t.same(
      await db.query('SELECT secret_hash FROM clients WHERE id = $1', [c.client_id]),
      [{ secret_hash: sha256(c.client_secret) }],
      'only its hash is stored',
    )
    const one = await get(`/admin/clients/${c.client_id}`)
    t.equal(one.statusCode, 200)
    const { client_secret: _shown, ...view } = c
    t.same(one.json(), view, 'GET shows the client')
    t.notOk(one.body.includes(c.client_secret) || one.body.includes(sha256(c.client_secret)), 'but never its secret, nor its hash')

    const spa = await call('POST', '/admin/clients', {
      name: 'spa',
      grant_types: ['password', 'refresh_token'],
      scopes: ['openid'],
      public: true,
      cookie_delivery: true,
    })
    t.equal(spa.statusCode, 201)
    clients.push(spa.json().client_id)
    t.match(spa.json(), { public: true, cookie_delivery: true, audience: null, first_party: true, reuse_leeway: null })
    t.notOk('client_secret' in spa.json(), 'a public client has no secret')

    const web = await call('POST', '/admin/clients', {
      name: 'web shop',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: ['https://shop.example/cb', 'com.example.shop:/cb'],
      post_logout_redirect_uris: ['https://shop.example/'],
      first_party: true,
      reuse_leeway: 20,
    })
    t.equal(web.statusCode, 201)
    clients.push(web.json().client_id)
    const webView = {
      redirect_uris: ['https://shop.example/cb', 'com.example.shop:/cb'],
      post_logout_redirect_uris: ['https://shop.example/'],
      first_party: true,
      reuse_leeway: 20,
    }
    t.match(web.json(), webView, 'redirect URIs, first-party and leeway as given')
    t.match((await get(`/admin/clients/${web.json().client_id}`)).json(), webView, 'and as GET shows them')

    const clientCount = async () => Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM clients'))[0]!.n)
    const count = await clientCount()
    const bad: [string, object, string?][] = [
      ['an unknown grant', { name: 'x', grant_types: ['implicit'] }, 'Unknown grant type: implicit'],
      ['public and client_credentials', { name: 'x', grant_types: ['client_credentials'], public: true }, 'A public client cannot use client_credentials.'],
      [
        'the issuer as audience',
        { name: 'x', grant_types: ['client_credentials'], audience: issuer },
        "The audience cannot be the issuer: that is the refresh token's audience, so resource servers would accept refresh tokens.",
      ],
      ['the issuer with a slash as audience', { name: 'x', grant_types: ['client_credentials'], audience: `${issuer}/` }, 'The audience cannot be the issuer'],
      ['an empty name', { name: '', grant_types: ['password'] }],
      ['a blank name', { name: '   ', grant_types: ['password'] }, 'A client needs a name of 1 to 200 characters.'],
      ['no grant', { name: 'x', grant_types: [] }],
      ['no grant_types', { name: 'x' }],
      ['grant_types as a string', { name: 'x', grant_types: 'password' }],
      ['a malformed scope', { name: 'x', grant_types: ['password'], scopes: ['read"'] }],
      ['an unknown field', { name: 'x', grant_types: ['password'], client_secret: 'mine' }, 'Unknown field "client_secret".'],
      ['public as a string', { name: 'x', grant_types: ['password'], public: 'yes' }],
      ['authorization_code without redirect_uris', { name: 'x', grant_types: ['authorization_code'] }, 'needs at least one redirect URI'],
      ['an http redirect URI', { name: 'x', grant_types: ['authorization_code'], redirect_uris: ['http://shop.example/cb'] }, 'must be https'],
      ['a redirect URI with a fragment', { name: 'x', grant_types: ['authorization_code'], redirect_uris: ['https://shop.example/cb#x'] }, 'fragment'],
      ['redirect_uris as a string', { name: 'x', grant_types: ['authorization_code'], redirect_uris: 'https://shop.example/cb' }],
      ['a leeway over 300', { name: 'x', grant_types: ['password'], reuse_leeway: 301 }],
      ['a fractional leeway', { name: 'x', grant_types: ['password'], reuse_leeway: 1.5 }],
      ['first_party as a string', { name: 'x', grant_types: ['password'], first_party: 'yes' }],
    ]
    for (const [what, payload, description] of bad) {
      const res = await call('POST', '/admin/clients', payload)
      t.equal(res.statusCode, 400, what)
      t.equal(res.json().error, 'invalid_request', `${what}: invalid_request`)
      if (description) t.match(res.json().error_description, description, `${what}: says why`)
    }
    t.equal(await clientCount(), count, 'no bad registration was stored')

    const pages = await walk(t, '/admin/clients', 2)
    const listed = pages.flat()
    t.same(listed.map((x) => x.client_id).sort(), [...clients].sort(), 'every client exactly once')
    t.equal(new Set(listed.map((x) => x.client_id)).size, listed.length, 'none twice')
    // Oldest first (clients made in the same millisecond come in the database's id order).
    const times = listed.map((x) => String(x.created_at))
    t.same(times, [...times].sort(), 'oldest first')
    t.same(
      listed.find((x) => x.client_id === c.client_id),
      view,
      'as GET shows it',
    )
    for (const x of listed)
      t.same(
        Object.keys(x).sort(),
        [
          'audience',
          'client_id',
          'cookie_delivery',
          'created_at',
          'first_party',
          'grant_types',
          'name',
          'post_logout_redirect_uris',
          'public',
          'redirect_uris',
          'reuse_leeway',
          'scopes',
        ],
        'no secret, no hash',
      )
    t.same(
      await clientAudit(c.client_id),
      [{ type: 'client.created', actor_id: admin.id, subject_id: null, client_id: c.client_id, details: { via: 'api', public: false } }],
      'audit client.created, the admin as actor',
    )
    t.same(
      (await clientAudit(spa.json().client_id)).map((r) => r.details),
      [{ via: 'api', public: true }],
    )
  })

  t.test('DELETE a client: every session it had ends, and it can no longer authenticate', async (t) => {
    const created = await call('POST', '/admin/clients', { name: 'mobile app', grant_types: ['password', 'refresh_token'], scopes: ['read'] })
    const { client_id: id, client_secret: secret } = created.json() as { client_id: string; client_secret: string }
    const app1: TestClient = { id, secret, basic: basic(id, secret) }
    const ann = await newUser()
    const bob = await newUser()
    const sessions = [await signIn(app, app1, ann), await signIn(app, app1, ann), await signIn(app, app1, bob)]
    const elsewhere = await signIn(app, everyday, ann)
    // A resource server of the tokens' audience may introspect them (RFC 7662 §4): app1's are for DEFAULT_AUDIENCE.
    const api = await makeClient(app, { name: 'resource server', grantTypes: ['client_credentials'], audience: app.config.defaultAudience })
    t.same((await post(app, '/introspect', api, { token: sessions[0]!.access_token })).json().active, true, 'live before')

    const res = await call('DELETE', `/admin/clients/${app1.id}`)
    t.equal(res.statusCode, 200)
    t.same(res.json(), { client_id: app1.id, revoked_families: 3 })

    for (const [i, s] of sessions.entries()) {
      t.same((await post(app, '/introspect', api, { token: s.access_token })).json(), { active: false }, `session ${i}: access token inactive`)
      t.equal((await app.inject({ url: '/me', headers: as(s.access_token) })).statusCode, 401, `session ${i}: refused at /me`)
    }
    // This instance forgets the client at once (only other instances may know it for up to 5 s).
    const refresh = await token(app, app1, { grant_type: 'refresh_token', refresh_token: sessions[0]!.refresh_token! })
    t.equal(refresh.statusCode, 401, 'the client can no longer authenticate')
    t.equal(refresh.json().error, 'invalid_client')
    t.equal((await token(app, app1, { grant_type: 'password', username: ann.email, password: ann.password })).json().error, 'invalid_client')
    t.equal((await post(app, '/introspect', app1, { token: elsewhere.access_token })).statusCode, 401, 'not even to introspect')
    t.same(await db.query('SELECT count(*)::int AS n FROM refresh_families WHERE client_id = $1', [app1.id]), [{ n: 0 }], 'its families are gone')
    t.equal((await app.inject({ url: '/me', headers: as(elsewhere.access_token) })).statusCode, 200, "Ann's session through another client lives on")
    t.equal((await token(app, everyday, { grant_type: 'refresh_token', refresh_token: elsewhere.refresh_token! })).statusCode, 200, 'and refreshes')

    const twice = await call('DELETE', `/admin/clients/${app1.id}`)
    t.equal(twice.statusCode, 404, 'twice: gone')
    t.same(twice.json(), { error: 'not_found', error_description: 'No such client.' })
    t.equal((await get(`/admin/clients/${app1.id}`)).statusCode, 404)
    t.notOk(
      (await walk(t, '/admin/clients', 200)).flat().some((x) => x.client_id === app1.id),
      'nor listed',
    )
    t.same(
      await clientAudit(app1.id),
      [
        { type: 'client.created', actor_id: admin.id, subject_id: null, client_id: app1.id, details: { via: 'api', public: false } },
        { type: 'client.deleted', actor_id: admin.id, subject_id: null, client_id: app1.id, details: { via: 'api', revoked_families: 3 } },
      ],
      'audit client.created, client.deleted',
    )
  })

  t.test('audit events: filters, a half-open time range, newest first, a page at a time', async (t) => {
    bearer = await adminToken(app, adminConsole, admin)
    const ann = await newUser()
    const bob = await newUser()
    await db.exec('DELETE FROM audit_events')
    const t0 = clock.now()
    const iso = (ms: number) => new Date(ms).toISOString()
    // The same instant written one hour east of UTC.
    const eastOfUtc = (ms: number) => new Date(ms + 3_600_000).toISOString().replace('Z', '+01:00')

    // 1. t0: a failed sign-in of Ann.
    await token(app, everyday, { grant_type: 'password', username: ann.email, password: 'not her password' })
    clock.advance(10)
    // 2. t0+10: Ann signs in.
    const annSession = await signIn(app, everyday, ann)
    clock.advance(10)
    // 3. t0+20: the admin disables Bob (he has no session: one row).
    t.equal((await patch(bob.id, { disabled: true })).statusCode, 200)
    clock.advance(10)
    // 4. t0+30: a failed sign-in of Bob.
    await token(app, everyday, { grant_type: 'password', username: bob.email, password: 'not his password' })
    clock.advance(10)
    // 5. t0+40: the admin registers a client.
    const svc = (await call('POST', '/admin/clients', { name: 'svc', grant_types: ['client_credentials'] })).json().client_id as string
    clients.push(svc)

    const ids = (await db.query<{ id: string }>('SELECT id::text AS id FROM audit_events ORDER BY id')).map((r) => r.id)
    t.equal(ids.length, 5, 'five events')
    const [e1, e2, e3, e4, e5] = ids as [string, string, string, string, string]
    const list = async (q: string) => {
      const res = await get(`/admin/audit-events${q}`)
      t.equal(res.statusCode, 200, q)
      return (res.json().items as { id: string }[]).map((e) => e.id)
    }

    const all = (await get('/admin/audit-events')).json()
    t.same(
      all.items.map((e: { id: string }) => e.id),
      [e5, e4, e3, e2, e1],
      'newest first',
    )
    t.equal(all.next_cursor, null)
    t.same(
      all.items[2],
      {
        id: e3,
        at: iso(t0 + 20_000),
        type: 'user.disabled',
        actor_id: admin.id,
        subject_id: bob.id,
        client_id: null,
        ip: '127.0.0.1',
        user_agent: 'lightMyRequest',
        details: { via: 'api' },
      },
      'an event, at the time of the server clock',
    )
    t.same(all.items[3], {
      id: e2,
      at: iso(t0 + 10_000),
      type: 'signin.ok',
      actor_id: ann.id,
      subject_id: ann.id,
      client_id: everyday.id,
      ip: '127.0.0.1',
      user_agent: 'lightMyRequest',
      details: { sid: decode(annSession.access_token).payload.sid },
    })
    t.same(
      all.items.map((e: { type: string }) => e.type),
      ['client.created', 'signin.failed', 'user.disabled', 'signin.ok', 'signin.failed'],
    )

    t.same(await list('?type=signin.failed'), [e4, e1], 'type')
    t.same(await list('?type=signin'), [], 'type matches exactly')
    t.same(await list(`?user=${ann.id}`), [e2, e1], 'user: events about Ann')
    t.same(await list(`?user=${bob.id}`), [e4, e3], 'user: events about Bob')
    t.same(await list(`?user=${admin.id}`), [e5, e3], 'user: what the admin did')
    t.same(await list(`?client=${everyday.id}`), [e4, e2, e1], 'client')
    t.same(await list(`?client=${svc}`), [e5], 'client: the one registered')
    t.same(await list(`?type=signin.failed&user=${bob.id}`), [e4], 'filters combine')
    t.same(await list(`?user=${ann.id}&client=${svc}`), [], 'to nothing, too')

    t.same(await list(`?since=${iso(t0 + 10_000)}&until=${iso(t0 + 30_000)}`), [e3, e2], 'since is included, until is not')
    t.same(await list(`?since=${iso(t0 + 10_001)}`), [e5, e4, e3], 'a millisecond after an event leaves it out')
    t.same(await list(`?until=${iso(t0 + 10_000)}`), [e1], 'until alone')
    t.same(await list(`?until=${iso(t0)}`), [], 'until at the first event: nothing')
    t.same(await list(`?since=${iso(t0 + 40_000)}`), [e5], 'since at the last event: it')
    t.same(await list(`?since=${encodeURIComponent(eastOfUtc(t0 + 20_000))}&until=${iso(t0 + 20_001)}`), [e3], 'any ISO-8601 offset')
    t.same(await list(`?type=signin.failed&since=${iso(t0 + 1)}`), [e4], 'a range and a filter')

    const pages = await walk(t, '/admin/audit-events', 2)
    t.same(
      pages.map((p) => p.map((e) => e.id)),
      [[e5, e4], [e3, e2], [e1]],
      'pages, newest first',
    )
    const filtered = await walk(t, `/admin/audit-events?client=${everyday.id}`, 2)
    t.same(
      filtered.map((p) => p.map((e) => e.id)),
      [[e4, e2], [e1]],
      'a filtered list pages too',
    )
  })
})
