// What issue 18 adds to the client registry (src/clients/registration.ts, docs/endpoints.md#clients):
// redirect URIs and post-logout redirect URIs kept exactly as given, first-party clients, a
// per-client reuse leeway; and the migration that gives existing clients the new columns.
import t from 'tap'
import { type ClientRegistration, redirectUriProblem, registerClient } from '../../src/clients/registration.js'
import { migrate, readMigrations } from '../../src/stores/migrate.js'
import { build, eachLeg } from '../helpers/build.js'
import { openTestDatabase } from '../helpers/db.js'

const MIGRATION = '20261202020000_client_redirects'

t.test('redirectUriProblem, one case per rule', async (t) => {
  const good = [
    'https://app.example.com/callback',
    'https://app.example.com:8443/cb?tenant=a&x=1',
    'https://APP.example.com/Callback/',
    'http://127.0.0.1:8080/callback',
    'http://[::1]/cb',
    'http://localhost:3000/cb',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
  ]
  for (const uri of good) t.equal(redirectUriProblem(uri), undefined, `accepted: ${uri}`)
  const bad: [string, RegExp, string][] = [
    ['', /1 to 2000 characters/, 'empty'],
    [`https://app.example.com/${'a'.repeat(2000)}`, /1 to 2000 characters/, 'longer than 2000'],
    ['/callback', /absolute URL/, 'relative'],
    ['app.example.com/callback', /absolute URL/, 'no scheme'],
    ['//app.example.com/cb', /absolute URL/, 'scheme-relative'],
    ['http://app.example.com/cb', /must be https/, 'http, not loopback'],
    ['http://localhost.evil.example/cb', /must be https/, 'http, a host that starts like localhost'],
    ['http://10.0.0.1/cb', /must be https/, 'http on a private address'],
    ['https://app.example.com/cb#frag', /fragment/, 'a fragment'],
    ['https://app.example.com/cb#', /fragment/, 'an empty fragment'],
    ['https://user:pass@app.example.com/cb', /user name or password/, 'userinfo'],
    ['https://user@app.example.com/cb', /user name or password/, 'a user name'],
    ['https://@app.example.com/cb', /user name or password/, 'an empty userinfo'],
    ['com.example.app://evil@host/cb', /user name or password/, 'userinfo in a private-use URI'],
    [' https://app.example.com/cb', /spaces or control/, 'a leading space the parser would drop'],
    ['https://app.example.com/c b', /spaces or control/, 'a space'],
    ['https://app.example.com/cb\n', /spaces or control/, 'a newline'],
    ['javascript:alert(1)', /private-use scheme with a dot/, 'javascript:'],
    ['data:text/html,hi', /private-use scheme with a dot/, 'data:'],
    ['myapp:/callback', /private-use scheme with a dot/, 'a custom scheme without a dot'],
    ['file:///etc/passwd', /private-use scheme with a dot/, 'file:'],
  ]
  for (const [uri, why, what] of bad) t.match(redirectUriProblem(uri), why, `refused: ${what}`)
  t.equal(redirectUriProblem(`https://app.example.com/${'a'.repeat(2000 - 'https://app.example.com/'.length)}`), undefined, 'exactly 2000 characters')
})

eachLeg(t, async (t, leg) => {
  const { app, db, config } = await build(t, leg)
  /** A web app's registration, with `r` over it; the stored client. */
  const register = async (r: Partial<ClientRegistration>) =>
    (
      await registerClient(
        app.stores.clients,
        { name: 'web', grantTypes: ['authorization_code'], redirectUris: ['https://app.example.com/cb'], ...r },
        { issuer: config.issuer },
      )
    ).client
  /** The refusal of that registration: its status, RFC error code and description. */
  const refusal = (r: Partial<ClientRegistration>) =>
    register(r).then(
      (c) => ({ accepted: c.id }),
      (e: { statusCode?: number; error?: string; description?: string }) => ({ status: e.statusCode, error: e.error, description: e.description }),
    )
  const count = async () => Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM clients'))[0]!.n)

  t.test('redirect URIs are stored exactly as given, in order, and read back', async (t) => {
    const redirectUris = ['https://App.Example.com/cb?x=1', 'http://127.0.0.1:53682/', 'com.example.app:/cb']
    const postLogoutRedirectUris = ['https://app.example.com/signed-out']
    const c = await register({ redirectUris, postLogoutRedirectUris })
    t.match(c, { redirectUris, postLogoutRedirectUris, firstParty: false, reuseLeeway: null })
    const stored = await app.stores.clients.findById(c.id)
    t.same(stored?.redirectUris, redirectUris, 'byte for byte, never normalised')
    t.same(stored?.postLogoutRedirectUris, postLogoutRedirectUris)
    const [row] = await db.query<Record<string, unknown>>(
      'SELECT redirect_uris, post_logout_redirect_uris, first_party, reuse_leeway FROM clients WHERE id = $1',
      [c.id],
    )
    t.same(row, { redirect_uris: redirectUris, post_logout_redirect_uris: postLogoutRedirectUris, first_party: false, reuse_leeway: null })
    t.same((await register({ redirectUris: ['https://a.example/cb', 'https://a.example/cb'] })).redirectUris, ['https://a.example/cb'], 'a repeat is kept once')
  })

  t.test('each bad redirect URI is invalid_request, naming it, and nothing is stored', async (t) => {
    const before = await count()
    const bad: [string, Partial<ClientRegistration>, RegExp][] = [
      ['http, not loopback', { redirectUris: ['http://app.example.com/cb'] }, /"http:\/\/app\.example\.com\/cb" must be https/],
      ['a fragment', { redirectUris: ['https://app.example.com/cb#x'] }, /may not have a fragment/],
      ['userinfo', { redirectUris: ['https://me:pw@app.example.com/cb'] }, /may not have a user name or password/],
      ['relative', { redirectUris: ['/cb'] }, /"\/cb" must be an absolute URL/],
      ['too many', { redirectUris: Array.from({ length: 21 }, (_, i) => `https://app.example.com/cb${i}`) }, /at most 20 redirect URIs/],
      ['too long', { redirectUris: [`https://app.example.com/${'a'.repeat(2000)}`] }, /1 to 2000 characters/],
      ['a bad one among good ones', { redirectUris: ['https://app.example.com/cb', 'http://evil.example/cb'] }, /"http:\/\/evil\.example\/cb"/],
      ['a bad post-logout URI', { postLogoutRedirectUris: ['https://app.example.com/bye#x'] }, /post-logout redirect URI .* fragment/],
      [
        'too many post-logout URIs',
        { postLogoutRedirectUris: Array.from({ length: 21 }, (_, i) => `https://app.example.com/bye${i}`) },
        /at most 20 post-logout redirect URIs/,
      ],
      ['authorization_code without a redirect URI', { redirectUris: [] }, /authorization_code grant needs at least one redirect URI/],
      ['authorization_code, redirect URIs absent', { redirectUris: undefined }, /needs at least one redirect URI/],
      ['a negative leeway', { reuseLeeway: -1 }, /reuse leeway must be a whole number of seconds from 0 to 300/],
      ['a leeway over 300 s', { reuseLeeway: 301 }, /from 0 to 300/],
      ['a fractional leeway', { reuseLeeway: 1.5 }, /whole number/],
    ]
    for (const [what, r, why] of bad) t.match(await refusal(r), { status: 400, error: 'invalid_request', description: why }, what)
    t.equal(await count(), before, 'no refused client was stored')
  })

  t.test('first-party: as asked, and always with the password grant', async (t) => {
    t.equal((await register({ firstParty: true })).firstParty, true, '--first-party')
    t.equal((await register({})).firstParty, false, 'not by default')
    t.equal((await register({ grantTypes: ['password', 'refresh_token'], redirectUris: [] })).firstParty, true, 'the password grant makes it first-party')
    t.equal((await register({ grantTypes: ['password'], firstParty: false, redirectUris: [] })).firstParty, true, 'even when asked otherwise')
    t.equal((await register({ grantTypes: ['client_credentials'], redirectUris: [] })).firstParty, false)
  })

  t.test('the reuse leeway: null by default, 0 to 300 s kept', async (t) => {
    t.equal((await register({})).reuseLeeway, null)
    t.equal((await register({ reuseLeeway: null })).reuseLeeway, null)
    t.equal((await register({ reuseLeeway: 0 })).reuseLeeway, 0)
    t.equal((await register({ reuseLeeway: 300 })).reuseLeeway, 300)
  })
})

eachLeg(t, async (t, leg) => {
  t.test(`${MIGRATION}: existing clients keep working, those with the password grant become first-party`, async (t) => {
    const db = await openTestDatabase(t, leg)
    const all = readMigrations()
    t.ok(
      all.some((m) => m.name === MIGRATION),
      'the migration exists',
    )
    await migrate(
      db,
      all.filter((m) => m.name < MIGRATION),
    )
    const insert = (id: string, grants: string[]) =>
      db.query(`INSERT INTO clients (id, name, grant_types, scopes, updated_at) VALUES ($1, $1, $2, '{read}', now())`, [id, grants])
    await insert('password-app', ['password', 'refresh_token'])
    await insert('password-only', ['password'])
    await insert('service', ['client_credentials'])
    await insert('refresher', ['refresh_token'])
    const { applied } = await migrate(
      db,
      all.filter((m) => m.name <= MIGRATION),
    )
    t.same(applied, [MIGRATION])
    const rows = await db.query<Record<string, unknown>>(
      'SELECT id, first_party, redirect_uris, post_logout_redirect_uris, reuse_leeway, grant_types FROM clients ORDER BY id',
    )
    const client = (id: string, grants: string[], firstParty: boolean) => ({
      id,
      first_party: firstParty,
      redirect_uris: [],
      post_logout_redirect_uris: [],
      reuse_leeway: null,
      grant_types: grants,
    })
    t.same(rows, [
      client('password-app', ['password', 'refresh_token'], true),
      client('password-only', ['password'], true),
      client('refresher', ['refresh_token'], false),
      client('service', ['client_credentials'], false),
    ])

    // A client inserted later without the new columns gets the defaults too; the checks hold.
    await insert('later', ['password'])
    t.match((await db.query('SELECT first_party, redirect_uris FROM clients WHERE id = $1', ['later']))[0], { first_party: false, redirect_uris: [] })
    await t.rejects(db.query("UPDATE clients SET redirect_uris = NULL WHERE id = 'later'"), 'redirect_uris is never NULL')
    await t.rejects(db.query("UPDATE clients SET post_logout_redirect_uris = NULL WHERE id = 'later'"), 'post_logout_redirect_uris is never NULL')
    await t.rejects(db.query("UPDATE clients SET reuse_leeway = 301 WHERE id = 'later'"), 'the leeway is bounded')
  })
})
