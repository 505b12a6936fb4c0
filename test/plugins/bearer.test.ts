// The bearer guards (plugins/bearer.ts): requireScope on a route of its own, and the admin API's
// guard: its own audience and scope, and an enabled admin as the database says now.
import t from 'tap'
import { buildApp } from '../../src/app.js'
import bearer, { requireAdmin, requireScope } from '../../src/plugins/bearer.js'
import { testConfig } from '../helpers/build.js'
import { LEGS, openTestDatabase } from '../helpers/db.js'
import { adminToken, makeAdminConsole, makeClient, makeUser, signIn, token } from '../helpers/factories.js'

for (const leg of LEGS) {
  t.test(leg, async (t) => {
    const db = await openTestDatabase(t, leg)
    const app = await buildApp({ config: testConfig(), db })
    t.teardown(() => app.close())
    // A protected context the way Tessera's own routes are built: bearer, then a guard per route.
    await app.register(async (secured) => {
      await secured.register(bearer)
      secured.get('/needs-write', { preHandler: requireScope('write') }, async (req) => ({ sub: req.token.sub }))
      secured.get('/needs-admin', { preHandler: requireAdmin(secured) }, async () => ({ ok: true }))
    })
    await app.ready()
    const client = await makeClient(app, { scopes: ['read', 'write', 'admin'] })
    const console = await makeAdminConsole(app)
    const user = await makeUser(app)
    const admin = await makeUser(app, { role: 'admin' })
    const get = async (url: string, tok: string) => app.inject({ url, headers: { authorization: `Bearer ${tok}` } })

    t.test('requireScope: RFC 6750 insufficient_scope', async (t) => {
      const reader = (await signIn(app, client, user, { scope: 'read' })).access_token
      const writer = (await signIn(app, client, user, { scope: 'read write' })).access_token
      const denied = await get('/needs-write', reader)
      t.equal(denied.statusCode, 403)
      t.same(denied.json(), { error: 'insufficient_scope', error_description: 'This request needs scope "write".' })
      t.equal(denied.headers['www-authenticate'], 'Bearer realm="tessera", error="insufficient_scope", scope="write"', 'RFC 6750 §3.1')
      t.same((await get('/needs-write', writer)).json(), { sub: user.id })
      t.equal((await app.inject('/needs-write')).statusCode, 401, 'no token at all')
    })

    t.test('requireAdmin: the admin audience, the admin scope, an admin now', async (t) => {
      t.equal((await get('/needs-admin', await adminToken(app, console, admin))).statusCode, 200, 'an admin API token of an admin')
      const everyday = (await signIn(app, client, admin, { scope: 'read admin' })).access_token
      const other = await get('/needs-admin', everyday)
      t.equal(other.statusCode, 403, 'scope admin, but issued for another audience')
      t.match(other.json(), { error: 'forbidden', error_description: /only tokens issued for http:\/\/localhost:3000\/admin/ })
      const noScope = await makeClient(app, { audience: `${app.config.issuer}/admin`, scopes: ['read'] })
      const res = await get('/needs-admin', (await signIn(app, noScope, admin)).access_token)
      t.equal(res.statusCode, 403, 'the admin audience, without the admin scope')
      t.match(res.json().error_description, /needs scope "admin"/)
      const cc = await token(app, console, { grant_type: 'client_credentials' })
      t.equal(cc.json().error, 'unauthorized_client', 'the console has no client_credentials')
    })

    t.test('a user who is not an admin cannot get the admin scope', async (t) => {
      const asked = await token(app, console, { grant_type: 'password', username: user.email, password: user.password, scope: 'admin' })
      t.equal(asked.statusCode, 400)
      t.equal(asked.json().error, 'invalid_scope')
      const byDefault = await signIn(app, client, user)
      t.equal(byDefault.scope, 'read write', 'left out when not asked for')
    })

    t.test('demoted or disabled: the same token loses access at once', async (t) => {
      const other = await makeUser(app, { role: 'admin' })
      const bearerToken = await adminToken(app, console, other)
      t.equal((await get('/needs-admin', bearerToken)).statusCode, 200)
      await app.stores.users.setRole(other.id, 'user')
      t.equal((await get('/needs-admin', bearerToken)).statusCode, 403, 'demoted: refused, though the token says admin')
      await app.stores.users.setRole(other.id, 'admin')
      t.equal((await get('/needs-admin', bearerToken)).statusCode, 200)
      await app.stores.users.setDisabled(other.id, new Date())
      t.equal((await get('/needs-admin', bearerToken)).statusCode, 401, "disabled: refused, the token's session is over")
    })
  })
}
