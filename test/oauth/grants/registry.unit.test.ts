// The grant registry (src/oauth/grants/index.ts): one handler per GRANT_TYPES entry, keyed by its
// grant_type, in the order the metadata lists them. Built from fakes: nothing here opens a database.
import t from 'tap'
import { loadConfig } from '../../../src/config/index.js'
import { createGrants, GRANT_TYPES, type GrantDeps } from '../../../src/oauth/grants/index.js'
import { tokenService } from '../../../src/oauth/tokens/service.js'
import { frozenClock } from '../../helpers/clock.js'
import { auditLog, ISSUER, MemoryKeyRing, makeClient, memoryFamilies, memoryUsers, meta, passwordCheck, rsaKeys } from '../../helpers/unit.js'

const [key] = await rsaKeys(1)
const clock = frozenClock()
// The whole Config, decoded from an environment given here (not process.env), as the server would.
const config = loadConfig({ ISSUER, NODE_ENV: 'test' }, '/nonexistent')
const keys = new MemoryKeyRing([key!, 'active'])
const users = memoryUsers()
const families = memoryFamilies(users)
// GrantDeps asks for the whole stores; the grants take only the methods the fakes have.
// No code is ever issued here: every exchange finds none.
const authorizationCodes: GrantDeps['stores']['authorizationCodes'] = { consume: async () => null, replayed: async () => false }
const stores: GrantDeps['stores'] = { users, families, authorizationCodes }
const tokens = tokenService({ config, keys, clock, families })
const audit = auditLog()
const grants = createGrants({ config, check: passwordCheck(clock, audit), stores, tokens, keys, audit, clock })

t.test('the registry holds exactly GRANT_TYPES, in order', async (t) => {
  t.same([...grants.keys()], [...GRANT_TYPES])
  t.same([...GRANT_TYPES], ['authorization_code', 'password', 'refresh_token', 'client_credentials'])
  for (const [grantType, handler] of grants) t.equal(handler.grantType, grantType, `${grantType}: keyed by its own grant_type`)
  t.equal(grants.get('implicit'), undefined, 'nothing else is looked up')
  t.equal(grants.get('__proto__'), undefined)
})

t.test('each handler declares the parameters it reads', async (t) => {
  const props = (grantType: string) => Object.keys(grants.get(grantType)!.params.properties).sort()
  t.same(props('authorization_code'), ['code', 'code_verifier', 'redirect_uri'])
  t.same(props('password'), ['password', 'scope', 'username'])
  t.same(props('refresh_token'), ['refresh_token', 'scope'])
  t.same(props('client_credentials'), ['audience', 'scope'])
})

t.test('the handlers are wired to the dependencies given', async (t) => {
  const client = makeClient({ id: 'worker', scopes: ['jobs'] })
  const result = await grants.get('client_credentials')!.handle({}, { client, meta })
  t.equal(result.scope, 'jobs')
  t.ok(
    result.access.token.startsWith(Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: key!.kid })).toString('base64url')),
    'signed with the ring given',
  )
})
