// The signing-key lifecycle (docs/keys.md) with a frozen clock: planned rotation, the prepublish
// wait, retiring → retired → deleted, emergency rotation, retire, import, the admin API.
import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { adminToken, decode, makeAdminConsole, makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app, db } = await build(t, leg, { clock, env: { ACCESS_TOKEN_TTL: '15m', KEY_PREPUBLISH: '15m', REFRESH_TOKEN_TTL: '7d' } })
  const client = await makeClient(app)
  const console = await makeAdminConsole(app)
  const admin = await makeUser(app, { role: 'admin' })
  const user = await makeUser(app)
  const api = async (method: 'GET' | 'POST', url: string, payload?: object) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${await adminToken(app, console, admin)}` }, ...(payload ? { payload } : {}) })
  const jwks = async () => (await app.inject('/.well-known/jwks.json')).json().keys.map((k: { kid: string }) => k.kid) as string[]
  const states = async () =>
    Object.fromEntries((await db.query<{ kid: string; state: string }>('SELECT kid, state FROM signing_keys')).map((r) => [r.kid, r.state]))
  const introspect = async (tok: string) => (await post(app, '/introspect', client, { token: tok })).json().active as boolean

  t.test('only admins reach /admin', async (t) => {
    t.equal((await app.inject('/admin/keys')).statusCode, 401)
    const plain = (await signIn(app, client, user)).access_token
    const res = await app.inject({ url: '/admin/keys', headers: { authorization: `Bearer ${plain}` } })
    t.equal(res.statusCode, 403)
    t.equal(res.json().error, 'forbidden')
    const everyday = (await signIn(app, client, admin)).access_token
    t.equal(
      (await app.inject({ url: '/admin/keys', headers: { authorization: `Bearer ${everyday}` } })).statusCode,
      403,
      "an admin's everyday token is not an admin API token",
    )
    const list = await api('GET', '/admin/keys')
    t.equal(list.statusCode, 200)
    t.same(
      list
        .json()
        .keys.map((k: { state: string }) => k.state)
        .sort(),
      ['active', 'next'],
    )
    t.notMatch(list.body, /private|sealed/)
  })

  t.test('planned rotation waits until the next key has been published for KEY_PREPUBLISH', async (t) => {
    const early = await api('POST', '/admin/keys/rotate')
    t.equal(early.statusCode, 409)
    t.match(early.json().error_description, /has been published for \d+ s.*KEY_PREPUBLISH \(900 s\).*--now/)
    t.same(Object.values(await states()).sort(), ['active', 'next'], 'nothing changed')
  })

  t.test('rotation: next → active, active → retiring, a new next; tokens keep verifying', async (t) => {
    const before = await states()
    const oldActive = app.keys.signer.kid
    const oldNext = Object.keys(before).find((k) => before[k] === 'next')!
    const etag = (await app.inject('/.well-known/jwks.json')).headers.etag
    clock.advance(15 * 60)
    const s = await signIn(app, client, user)
    t.equal(decode(s.access_token).header.kid, oldActive)
    const res = await api('POST', '/admin/keys/rotate')
    t.equal(res.statusCode, 200)
    t.match(res.json(), { active: oldNext, previous: oldActive, emergency: false })
    const after = await states()
    t.equal(after[oldNext], 'active')
    t.equal(after[oldActive], 'retiring')
    t.equal(after[res.json().next], 'next')
    t.same(await jwks(), [oldNext, res.json().next, oldActive], 'active, next and retiring are all published')
    t.not((await app.inject('/.well-known/jwks.json')).headers.etag, etag, 'the ETag changes with the ring')

    const fresh = await signIn(app, client, user)
    t.equal(decode(fresh.access_token).header.kid, oldNext, 'new tokens are signed by the promoted key')
    t.ok(await introspect(s.access_token), 'tokens of the retiring key still verify')
    const rotated = await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
    t.equal(rotated.statusCode, 200, 'a refresh token of the retiring key still works')
    const audit = await db.query("SELECT actor_id FROM audit_events WHERE type = 'key.rotated'")
    t.equal(audit.length, 1)
    t.match(audit[0], { actor_id: admin.id })
  })

  t.test('retiring → retired after access lifetime + margin; retired keys still verify refresh tokens, then go', async (t) => {
    const retiring = Object.entries(await states()).find(([, s]) => s === 'retiring')![0]
    // A family whose current refresh token the retiring key signed: made before the rotation.
    const [family] = await db.query<{ id: string }>('SELECT id FROM refresh_families WHERE current_kid = $1 AND revoked_at IS NULL LIMIT 1', [retiring])
    t.ok(family, 'a live family still holds a token of the old key')

    clock.advance(15 * 60 - 5)
    await app.keyLifecycle.tick()
    t.equal((await states())[retiring], 'retiring', 'not before access lifetime + KEY_PREPUBLISH')
    clock.advance(15 * 60 + 10)
    await app.keyLifecycle.tick()
    t.equal((await states())[retiring], 'retired')
    t.notOk((await jwks()).includes(retiring), 'a retired key is no longer published')
    t.ok(app.keys.verificationKey(retiring), 'but is kept while refresh tokens it signed are live')

    // Spend every family still on the retired key; then the sweep deletes it.
    const live = await db.query<{ id: string }>('SELECT id FROM refresh_families WHERE current_kid = $1 AND revoked_at IS NULL', [retiring])
    for (const f of live) await app.stores.families.revoke(f.id, 'test', new Date(clock.now()))
    await app.keyLifecycle.tick()
    t.notOk(retiring in (await states()), 'deleted once nothing needs it')
  })

  t.test('emergency rotation drops the old key at once: its tokens fail everywhere', async (t) => {
    const s = await signIn(app, client, user)
    const compromised = decode(s.access_token).header.kid
    const res = await api('POST', '/admin/keys/rotate', { now: true })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { previous: compromised, emergency: true })
    t.notOk((await jwks()).includes(compromised), 'gone from the JWKS')
    t.notOk(compromised in (await states()), 'gone from the database')
    t.notOk(await introspect(s.access_token), 'introspection: inactive')
    t.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${s.access_token}` } })).statusCode, 401)
    t.equal((await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })).json().error, 'invalid_grant')
    const [fam] = await db.query<{ revoked_reason: string }>('SELECT revoked_reason FROM refresh_families WHERE id = $1', [
      decode(s.refresh_token!).payload.sid,
    ])
    t.equal(fam!.revoked_reason, 'key_compromised')
    const [event] = await db.query<{ details: { emergency: boolean } }>("SELECT details FROM audit_events WHERE type = 'key.rotated' ORDER BY id DESC LIMIT 1")
    t.equal(event!.details.emergency, true)
    t.equal((await signIn(app, client, user)).token_type, 'Bearer', 'sign-in works at once with the new key')
  })

  t.test('an emergency rotation while a sign-in writes its family does not fail the sign-in', async (t) => {
    const bearer = await adminToken(app, console, admin)
    const families = app.stores.families
    const start = families.start
    t.teardown(() => {
      families.start = start
    })
    const before = app.keys.signer.kid
    // Force the interleaving: the rotation lands after the sign-in chose its key, before it signs.
    families.start = async (f) => {
      families.start = start
      const res = await app.inject({ method: 'POST', url: '/admin/keys/rotate', headers: { authorization: `Bearer ${bearer}` }, payload: { now: true } })
      t.equal(res.statusCode, 200, 'the emergency rotation went through in between')
      return start(f)
    }
    const res = await token(app, client, { grant_type: 'password', username: user.email, password: user.password })
    t.equal(res.statusCode, 200, `the sign-in succeeds: ${res.body}`)
    t.not(app.keys.signer.kid, before, 'the key was rotated meanwhile')
    t.ok(await introspect(res.json().access_token), 'its access token is signed by the new key and valid')
  })

  t.test('an emergency rotation right after a refresh spent its token: the refresh still answers, and the session ends', async (t) => {
    const bearer = await adminToken(app, console, admin)
    const s = await signIn(app, client, user)
    const families = app.stores.families
    const rotate = families.rotate
    t.teardown(() => {
      families.rotate = rotate
    })
    // Force the interleaving: the presented token is spent, then the key that will sign the next one is withdrawn.
    families.rotate = async (r) => {
      families.rotate = rotate
      const won = await rotate(r)
      const res = await app.inject({ method: 'POST', url: '/admin/keys/rotate', headers: { authorization: `Bearer ${bearer}` }, payload: { now: true } })
      t.equal(res.statusCode, 200, 'the emergency rotation went through in between')
      return won
    }
    const res = await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
    t.equal(res.statusCode, 200, `the refresh answers, not a misleading invalid_grant: ${res.body}`)
    const next = await token(app, client, { grant_type: 'refresh_token', refresh_token: res.json().refresh_token })
    t.equal(next.statusCode, 400, 'its refresh token is void (its key was withdrawn): the client signs in again')
    t.equal(next.json().error, 'invalid_grant')
  })

  t.test('retire: 404 for an unknown kid, 409 for the active key', async (t) => {
    const missing = await api('POST', '/admin/keys/no-such-kid/retire')
    t.equal(missing.statusCode, 404)
    t.equal(missing.json().error, 'not_found')
    const active = await api('POST', `/admin/keys/${app.keys.signer.kid}/retire`)
    t.equal(active.statusCode, 409)
    t.match(active.json().error_description, /active key.*Rotate first/)
    const bad = await api('POST', '/admin/keys/..%2F..%2Fetc/retire')
    t.equal(bad.statusCode, 400)
  })

  t.test('retire a retiring key early: out of the JWKS at once', async (t) => {
    clock.advance(15 * 60)
    const r = (await api('POST', '/admin/keys/rotate')).json()
    const res = await api('POST', `/admin/keys/${r.previous}/retire`)
    t.same(res.json(), { kid: r.previous, state: 'retired' })
    t.notOk((await jwks()).includes(r.previous))
    t.equal((await api('POST', `/admin/keys/${r.previous}/retire`)).statusCode, 409, 'already retired')
  })

  t.test('import an RSA PEM as the next key; refuse what is not one', async (t) => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
    const stored = await app.keyLifecycle.importPem(pem)
    t.equal(stored.state, 'next')
    t.ok((await jwks()).includes(stored.kid), 'published at once')
    t.equal(Object.values(await states()).filter((s) => s === 'next').length, 1, 'it replaces the generated next key')
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => ({}),
        (e: { statusCode?: number; description?: string }) => ({ status: e.statusCode, description: e.description }),
      )
    t.match(await refusal(app.keyLifecycle.importPem(pem)), { status: 409 })
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
    t.same(await refusal(app.keyLifecycle.importPem(small)), { status: 400, description: 'The RSA key has 1024 bits; at least 2048 are needed.' })
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
    t.same(await refusal(app.keyLifecycle.importPem(ec)), { status: 400, description: 'Not an RSA private key (it is ec).' })
    t.same(await refusal(app.keyLifecycle.importPem('-----BEGIN NONSENSE-----')), { status: 400, description: 'Not a PEM private key.' })
    clock.advance(15 * 60)
    const r = (await api('POST', '/admin/keys/rotate')).json()
    t.equal(r.active, stored.kid, 'the imported key is the one promoted')
  })
})

t.test('scheduled rotation rotates once per interval', async (t) => {
  const clock = frozenClock()
  const { app, db } = await build(t, 'pglite', { clock, env: { KEY_ROTATION_INTERVAL: '1h', KEY_PREPUBLISH: '15m' } })
  const count = async () => (await db.query("SELECT id FROM audit_events WHERE type = 'key.rotated'")).length
  clock.advance(59 * 60)
  await app.keyLifecycle.tick()
  t.equal(await count(), 0)
  clock.advance(60)
  await app.keyLifecycle.tick()
  await app.keyLifecycle.tick()
  t.equal(await count(), 1, 'one rotation, however many ticks')
  clock.advance(60 * 60)
  await app.keyLifecycle.tick()
  t.equal(await count(), 2)
})

t.test('a wrong KEY_ENCRYPTION_KEY stops the start and never makes new keys', async (t) => {
  const { db } = await build(t, 'pglite')
  const before = await db.query('SELECT kid FROM signing_keys ORDER BY kid')
  await t.rejects(build(t, 'pglite', { db }), { message: /cannot decrypt signing key .*KEY_ENCRYPTION_KEY/ })
  t.same(await db.query('SELECT kid FROM signing_keys ORDER BY kid'), before)
})
