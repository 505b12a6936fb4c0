// The bearer guards (plugins/bearer.ts) on a route of their own: requireScope and requireRole.
import t from 'tap'
import { buildApp } from '../../src/app.js'
import bearer, { requireRole, requireScope } from '../../src/plugins/bearer.js'
import { testConfig } from '../helpers/build.js'
import { LEGS, openTestDatabase } from '../helpers/db.js'
import { makeClient, makeUser, signIn } from '../helpers/factories.js'

for (const leg of LEGS) {
  t.test(leg, async (t) => {
    const db = await openTestDatabase(t, leg)
    const app = await buildApp({ config: testConfig(), db })
    t.teardown(() => app.close())
    // A protected context the way Tessera's own routes are built: bearer, then a guard per route.
    await app.register(async (secured) => {
      await secured.register(bearer)
      secured.get('/needs-write', { preHandler: requireScope('write') }, async (req) => ({ sub: req.token.sub }))
      secured.get('/needs-admin', { preHandler: requireRole('admin') }, async () => ({ ok: true }))
    })
    await app.ready()
    const client = await makeClient(app)
    const user = await makeUser(app)
    const get = async (url: string, token: string) => app.inject({ url, headers: { authorization: `Bearer ${token}` } })

    const reader = (await signIn(app, client, user, { scope: 'read' })).access_token
    const writer = (await signIn(app, client, user, { scope: 'read write' })).access_token

    const denied = await get('/needs-write', reader)
    t.equal(denied.statusCode, 403)
    t.same(denied.json(), { error: 'insufficient_scope', error_description: 'This request needs scope "write".' })
    t.equal(denied.headers['www-authenticate'], 'Bearer realm="tessera", error="insufficient_scope", scope="write"', 'RFC 6750 §3.1')
    t.same((await get('/needs-write', writer)).json(), { sub: user.id })

    t.equal((await get('/needs-admin', writer)).statusCode, 403)
    const admin = await makeUser(app, { role: 'admin' })
    t.equal((await get('/needs-admin', (await signIn(app, client, admin)).access_token)).statusCode, 200)
    t.equal((await app.inject('/needs-admin')).statusCode, 401, 'no token at all')
  })
}
