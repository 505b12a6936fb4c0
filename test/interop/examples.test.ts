// The example resource servers in examples/ against a live Tessera over real HTTP: each accepts
// a user's access token for its audience (a scope and a role on one route), refuses refresh
// tokens and other audiences, and, once the session is revoked, refuses the access token within
// one poll of the revocation feed, while /introspect says inactive at once.
import t, { type Test } from 'tap'
import { startExpressApi } from '../../examples/express-api/index.js'
import { startFastifyApi } from '../../examples/fastify-api/index.js'
import { eachLeg } from '../helpers/build.js'
import { makeClient, makeUser } from '../helpers/factories.js'
import { listeningTessera, tokenOverHttp } from './listen.js'

const POLL_MS = 1000
const AUDIENCE = 'orders-api'

eachLeg(t, async (t, leg) => {
  const { app, issuer } = await listeningTessera(t, leg)
  const client = await makeClient(app, { audience: AUDIENCE })
  const other = await makeClient(app, { name: 'another api’s client', audience: 'billing-api' })
  const rs = await makeClient(app, { name: 'orders api', grantTypes: ['client_credentials'], scopes: ['read'], audience: AUDIENCE })
  const options = { issuer, audience: AUDIENCE, clientId: rs.id, clientSecret: rs.secret!, pollIntervalMs: POLL_MS, port: 0 }
  const apis = { express: await startExpressApi(options), fastify: await startFastifyApi(options) }
  t.teardown(() => Promise.all(Object.values(apis).map((a) => a.close())))

  const admin = await makeUser(app, { role: 'admin' })
  const user = await makeUser(app)
  const signIn = (who: { email: string; password: string }, scope = 'read', via = client) =>
    tokenOverHttp(issuer, via, { grant_type: 'password', username: who.email, password: who.password, scope })
  const call = async (api: string, path: string, token: string) => {
    const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${token}` } })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
  const introspect = async (token: string) =>
    (
      (await (await fetch(`${issuer}/introspect`, { method: 'POST', headers: { authorization: rs.basic }, body: new URLSearchParams({ token }) })).json()) as {
        active: boolean
      }
    ).active
  const revoke = (token: string) =>
    fetch(`${issuer}/revoke`, { method: 'POST', headers: { authorization: client.basic }, body: new URLSearchParams({ token }) })

  /** Calls /api/me until it answers 401; returns how long that took. */
  async function refusedAfter(api: string, token: string, since: number): Promise<number | undefined> {
    while (Date.now() - since < POLL_MS * 4) {
      if ((await call(api, '/api/me', token)).status === 401) return Date.now() - since
      await new Promise((r) => setTimeout(r, 50))
    }
    return undefined
  }

  for (const [name, api] of Object.entries(apis)) {
    t.test(`${name}: what it accepts and what it refuses`, async (t) => {
      const adminTokens = await signIn(admin)
      const me = await call(api.url, '/api/me', adminTokens.access_token)
      t.equal(me.status, 200, 'a user’s access token works')
      t.same(me.body, { sub: admin.id, scope: 'read', client_id: client.id })
      t.equal((await call(api.url, '/api/reports', adminTokens.access_token)).status, 200, 'scope read and role admin: the reports')
      const plain = await signIn(user)
      t.equal((await call(api.url, '/api/reports', plain.access_token)).status, 403, 'not an admin: 403')
      const narrow = await signIn(admin, 'openid')
      const res = await call(api.url, '/api/reports', narrow.access_token)
      t.same([res.status, res.body.error], [403, 'insufficient_scope'], 'without the scope: 403 insufficient_scope')
      t.equal((await call(api.url, '/api/me', plain.refresh_token!)).status, 401, 'a refresh token is refused (typ, aud)')
      t.equal((await call(api.url, '/api/me', (await signIn(user, 'read', other)).access_token)).status, 401, 'another audience is refused')
      t.equal((await call(api.url, '/api/me', `${plain.access_token.slice(0, -4)}AAAA`)).status, 401, 'a bad signature is refused')
    })
  }

  t.test('a revoked session: /introspect at once, both examples within one poll interval', async (t: Test) => {
    const tokens = await signIn(user)
    for (const api of Object.values(apis)) t.equal((await call(api.url, '/api/me', tokens.access_token)).status, 200, 'accepted before')
    t.equal((await revoke(tokens.refresh_token!)).status, 200, 'the session is signed out (/revoke of its refresh token)')
    const revokedAt = Date.now()
    t.equal(await introspect(tokens.access_token), false, '/introspect: inactive at once')
    for (const [name, api] of Object.entries(apis)) {
      const after = await refusedAfter(api.url, tokens.access_token, revokedAt)
      t.ok(after !== undefined && after <= POLL_MS + 500, `${name} refuses it within one poll interval (after ${after} ms)`)
    }
  })

  t.test('a revoked access token (its jti): refused by both within one poll interval', async (t: Test) => {
    const tokens = await signIn(user)
    const sibling = await signIn(user)
    t.equal((await revoke(tokens.access_token)).status, 200)
    const revokedAt = Date.now()
    t.equal(await introspect(tokens.access_token), false, '/introspect: inactive at once')
    for (const [name, api] of Object.entries(apis)) {
      const after = await refusedAfter(api.url, tokens.access_token, revokedAt)
      t.ok(after !== undefined && after <= POLL_MS + 500, `${name} refuses it within one poll interval (after ${after} ms)`)
      t.equal((await call(api.url, '/api/me', sibling.access_token)).status, 200, `${name} still accepts another session’s token`)
    }
  })
})
