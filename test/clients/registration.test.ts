// Client registration rules (services/clients.ts), shared by the CLI and the admin API.
import t from 'tap'
import { registerClient } from '../../src/clients/registration.js'
import { sha256 } from '../../src/lib/secrets.js'
import { build, eachLeg } from '../helpers/build.js'

eachLeg(t, async (t, leg) => {
  const { app, db, config } = await build(t, leg)
  const register = (r: Partial<Parameters<typeof registerClient>[1]>) =>
    registerClient(app.stores.clients, { name: 'svc', grantTypes: ['client_credentials'], ...r }, { issuer: config.issuer }).then(
      (ok) => ok,
      (e: { statusCode?: number; description?: string }) => ({ status: e.statusCode, description: e.description }),
    )

  t.test('a confidential client: 256-bit secret shown once, stored as its SHA-256 only', async (t) => {
    const r = (await register({ scopes: ['read write'] })) as Awaited<ReturnType<typeof registerClient>>
    t.match(r.secret, /^[A-Za-z0-9_-]{43}$/)
    t.equal(Buffer.from(r.secret!, 'base64url').length, 32)
    t.same(r.client.scopes, ['read', 'write'])
    const [row] = await db.query<Record<string, unknown>>('SELECT * FROM clients WHERE id = $1', [r.client.id])
    t.equal(row!.secret_hash, sha256(r.secret!))
    t.notMatch(JSON.stringify(row), r.secret!)
  })

  t.test('refusals, each with a reason', async (t) => {
    t.match(await register({ grantTypes: [] }), { status: 400, description: /at least one grant/ })
    t.match(await register({ grantTypes: ['implicit'] }), { status: 400, description: /Unknown grant type: implicit/ })
    t.match(await register({ public: true }), { status: 400, description: /public client cannot use client_credentials/ })
    t.match(await register({ name: '  ' }), { status: 400 })
    t.match(await register({ audience: '' }), { status: 400 })
    t.match(await register({ audience: config.issuer }), { status: 400, description: /cannot be the issuer/ })
    t.match(await register({ audience: `${config.issuer}/` }), { status: 400, description: /cannot be the issuer/ })
    t.match(await register({ scopes: ['bad"scope'] }), { status: 400 })
    t.equal((await db.query('SELECT id FROM clients')).length, 1, 'only the client of the first test exists')
  })
})
