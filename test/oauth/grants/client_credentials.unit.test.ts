// grant_type=client_credentials (RFC 6749 §4.4): confidential clients only, `sub` is the client,
// its own audience only, and no refresh token (§4.4.3). Real token service and verification.
import t from 'tap'
import { epochSeconds } from '../../../src/lib/clock.js'
import { clientCredentialsGrant } from '../../../src/oauth/grants/client_credentials.js'
import { tokenService } from '../../../src/oauth/tokens/service.js'
import { verifyToken } from '../../../src/oauth/tokens/verify.js'
import type { Client } from '../../../src/stores/clients.js'
import { frozenClock } from '../../helpers/clock.js'
import { ISSUER, MemoryKeyRing, makeClient, memoryFamilies, memoryUsers, meta, rejectsOAuth, rsaKeys, unitConfig } from '../../helpers/unit.js'

const [key] = await rsaKeys(1)
const clock = frozenClock()
const keys = new MemoryKeyRing([key!, 'active'])
const config = unitConfig({ defaultAudience: 'api', accessTokenTtl: 300 })
const families = memoryFamilies(memoryUsers())
const tokens = tokenService({ config, keys, clock, families })
const grant = clientCredentialsGrant({ config, tokens })

const service = makeClient({ id: 'billing-worker', scopes: ['invoices:read', 'invoices:write'], audience: 'billing' })
const plain = makeClient({ id: 'cron', scopes: ['jobs'], audience: null })
const spa = makeClient({ id: 'spa', public: true, scopes: ['read'] })

const issue = (client: Client, params: { scope?: string; audience?: string } = {}) => grant.handle(params, { client, meta })
const claims = (token: string, audience: string) => verifyToken(token, ['access'], { keys, issuer: ISSUER, now: epochSeconds(clock), audience }).claims

t.test('the grant_type it handles', async (t) => {
  t.equal(grant.grantType, 'client_credentials')
})

t.test('refused, in code order', async (t) => {
  // [what, client, params, error, description]
  const cases: [string, Client, { scope?: string; audience?: string }, string, string][] = [
    ['a public client (it cannot keep a secret)', spa, {}, 'unauthorized_client', 'Public clients cannot use client_credentials.'],
    ['a public client, even asking nothing else wrong', spa, { scope: 'read' }, 'unauthorized_client', 'Public clients cannot use client_credentials.'],
    ['a malformed scope', service, { scope: 'invoices:read "x"' }, 'invalid_request', 'The scope parameter is malformed.'],
    ['a scope outside the client', service, { scope: 'invoices:read users:delete' }, 'invalid_scope', 'Scope not allowed: users:delete.'],
    ['another audience', service, { audience: 'api' }, 'invalid_request', 'This client may not request that audience.'],
    ['an audience for a client without one of its own', plain, { audience: 'billing' }, 'invalid_request', 'This client may not request that audience.'],
  ]
  for (const [what, client, params, error, description] of cases) await rejectsOAuth(t, issue(client, params), { error, description, status: 400 }, what)
})

t.test('issued: an access token whose subject is the client, and no refresh token', async (t) => {
  const result = await issue(service)
  t.equal(result.scope, 'invoices:read invoices:write', "no scope asked: all the client's")
  t.equal(result.refresh, undefined, 'RFC 6749 §4.4.3: no refresh token')
  t.notOk('refresh' in result)
  t.equal(result.access.expiresIn, 300)
  const c = claims(result.access.token, 'billing')
  t.same(
    { sub: c.sub, client_id: c.client_id, aud: c.aud, scope: c.scope, exp: c.exp - c.iat },
    { sub: 'billing-worker', client_id: 'billing-worker', aud: 'billing', scope: 'invoices:read invoices:write', exp: 300 },
  )
  t.notOk('sid' in c, 'no family')
  t.notOk('roles' in c, 'no user roles')
  t.equal(families.rows.size, 0, 'no family started')
})

t.test('scope and audience, where they are allowed', async (t) => {
  const narrow = await issue(service, { scope: 'invoices:read' })
  t.equal(narrow.scope, 'invoices:read')
  t.equal(claims(narrow.access.token, 'billing').scope, 'invoices:read')
  const own = await issue(service, { audience: 'billing' })
  t.equal(claims(own.access.token, 'billing').aud, 'billing', 'its own audience, asked explicitly')
  const def = await issue(plain)
  t.equal(claims(def.access.token, 'api').aud, 'api', 'DEFAULT_AUDIENCE for a client without its own')
  const explicitDefault = await issue(plain, { audience: 'api' })
  t.equal(claims(explicitDefault.access.token, 'api').aud, 'api', 'which it may also ask for by name')
})
