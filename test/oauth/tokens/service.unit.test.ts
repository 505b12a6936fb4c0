// The token service mints every token (docs/tokens.md): RFC 9068 access tokens, and the refresh
// tokens of families, whose ids, key and lifetimes it picks and signs again byte for byte. Real
// signing and verification; the family store in memory.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { epochSeconds } from '../../../src/lib/clock.js'
import { tokenService } from '../../../src/oauth/tokens/service.js'
import { newJti } from '../../../src/oauth/tokens/sign.js'
import { verifyToken } from '../../../src/oauth/tokens/verify.js'
import type { NewFamily } from '../../../src/stores/families.js'
import { frozenClock } from '../../helpers/clock.js'
import {
  decodeJwt,
  ISSUER,
  MemoryKeyRing,
  makeClient,
  memoryFamilies,
  memoryUsers,
  meta,
  rejectsOAuth,
  rsaKeys,
  type UnitConfig,
  unitConfig,
} from '../../helpers/unit.js'

const [k1, k2] = await rsaKeys(2)
const JTI = /^[A-Za-z0-9_-]{22}$/
const USER = randomUUID()
const client = makeClient({ id: 'web', scopes: ['read', 'write'] })

function setup(over: Partial<UnitConfig> = {}) {
  const clock = frozenClock()
  const keys = new MemoryKeyRing([k1!, 'active'], [k2!, 'next'])
  const users = memoryUsers()
  users.add({ id: USER, email: 'u@example.com', passwordHash: 'unused' })
  const memory = memoryFamilies(users)
  const starts: NewFamily[] = []
  /** Runs while the family is being written (to move the ring under the service). */
  let duringWrite = () => {}
  const families = {
    ...memory,
    start: async (f: NewFamily) => {
      starts.push(f)
      duringWrite()
      return memory.start(f)
    },
    rotate: async (r: Parameters<typeof memory.rotate>[0]) => {
      duringWrite()
      return memory.rotate(r)
    },
  }
  const config = unitConfig(over)
  const tokens = tokenService({ config, keys, clock, families })
  // Verification against k1 and k2 whatever happens to the service's ring.
  const verifier = new MemoryKeyRing([k1!, 'active'], [k2!, 'retiring'])
  const verify = (token: string, kind: 'access' | 'refresh', audience?: string) =>
    verifyToken(token, [kind], { keys: verifier, issuer: ISSUER, now: epochSeconds(clock), ...(audience ? { audience } : {}) })
  return {
    clock,
    keys,
    memory,
    starts,
    tokens,
    config,
    verify,
    setDuringWrite: (fn: () => void) => {
      duringWrite = fn
    },
  }
}

t.test('access: the RFC 9068 claims, and nothing else', async (t) => {
  const { tokens, clock, verify } = setup()
  const now = epochSeconds(clock)
  const issued = await tokens.access({ sub: USER, client, scope: 'read write' })
  t.equal(issued.expiresIn, 900, 'expires_in = ACCESS_TOKEN_TTL')
  const { header, payload } = decodeJwt(issued.token)
  t.same(header, { alg: 'RS256', typ: 'at+jwt', kid: k1!.kid }, 'header: RS256, at+jwt, the active kid')
  t.same(
    Object.keys(payload).sort(),
    ['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub'],
    'no roles and no sid unless given (client_credentials tokens carry neither)',
  )
  t.equal(payload.iss, ISSUER)
  t.equal(payload.sub, USER)
  t.equal(payload.aud, 'api', 'aud: DEFAULT_AUDIENCE for a client without its own')
  t.equal(payload.client_id, 'web')
  t.equal(payload.scope, 'read write')
  t.equal(payload.iat, now)
  t.equal(payload.exp, now + 900, 'exp = iat + ACCESS_TOKEN_TTL')
  t.match(payload.jti, JTI, '128 random bits, base64url')
  t.equal(verify(issued.token, 'access', 'api').claims.jti, payload.jti, 'signed by the active key')
})

t.test('access: audience, roles, sid, lifetimes', async (t) => {
  const { tokens, clock, keys } = setup({ accessTokenTtl: 60 })
  const own = makeClient({ audience: 'billing' })
  t.equal(decodeJwt((await tokens.access({ sub: 'u', client: own, scope: '' })).token).payload.aud, 'billing', "the client's own audience")
  t.equal(decodeJwt((await tokens.access({ sub: 'u', client: own, scope: '', audience: 'reports' })).token).payload.aud, 'reports', 'an explicit audience wins')
  const sid = randomUUID()
  const full = decodeJwt((await tokens.access({ sub: 'u', client, scope: 'read', roles: ['admin'], sid })).token).payload
  t.same(full.roles, ['admin'])
  t.equal(full.sid, sid)

  // iat counts whole seconds; exp follows the configured lifetime.
  clock.set(Date.UTC(2027, 0, 1, 0, 0, 0, 999))
  const at = decodeJwt((await tokens.access({ sub: 'u', client, scope: '' })).token).payload
  t.equal(at.iat, Date.UTC(2027, 0, 1) / 1000, 'iat floored to the second')
  t.equal(at.exp, (at.iat as number) + 60)

  const a = decodeJwt((await tokens.access({ sub: 'u', client, scope: '' })).token).payload
  t.not(a.jti, at.jti, 'every token its own jti')

  keys.activate(k2!.kid)
  t.equal(decodeJwt((await tokens.access({ sub: 'u', client, scope: '' })).token).header.kid, k2!.kid, 'the signer is read per token')
})

t.test('newJti: unique, 22 base64url characters', async (t) => {
  const ids = Array.from({ length: 2000 }, newJti)
  t.equal(new Set(ids).size, ids.length, 'no repeats across pool refills')
  t.ok(
    ids.every((id) => JTI.test(id)),
    'all well-formed',
  )
})

t.test('startFamily: picks the ids, key and lifetimes, and signs what the store kept', async (t) => {
  const { tokens, clock, starts, memory, verify } = setup({ refreshTokenTtl: 3600, refreshFamilyTtl: 3 * 3600 })
  const now = clock.now()
  const sec = epochSeconds(clock)
  const { family, refresh } = await tokens.startFamily({ userId: USER, client, scope: 'read', meta })
  t.equal(starts.length, 1)
  const f = starts[0]!
  t.match(f.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a v4 uuid')
  t.same(
    { userId: f.userId, clientId: f.clientId, scope: f.scope, userAgent: f.userAgent, ip: f.ip },
    { userId: USER, clientId: 'web', scope: 'read', userAgent: meta.userAgent, ip: meta.ip },
  )
  t.match(f.token.jti, JTI)
  t.same({ kid: f.token.kid, iat: f.token.iat, exp: f.token.exp }, { kid: k1!.kid, iat: sec, exp: sec + 3600 }, 'exp = iat + REFRESH_TOKEN_TTL')
  t.equal(f.expiresAt.getTime(), now + 3 * 3600 * 1000, 'the family ends REFRESH_FAMILY_TTL from now')
  t.equal(f.now.getTime(), now)

  t.equal(family.id, f.id)
  t.equal(refresh.expiresIn, 3600)
  const { header, payload } = decodeJwt(refresh.token)
  t.same(header, { alg: 'RS256', typ: 'rt+jwt', kid: k1!.kid })
  t.same(
    payload,
    { iss: ISSUER, sub: USER, aud: ISSUER, iat: sec, exp: sec + 3600, jti: f.token.jti, client_id: 'web', scope: 'read', sid: f.id },
    'the refresh claims, aud = the issuer',
  )
  t.equal(verify(refresh.token, 'refresh').claims.sid, f.id)
  t.equal(memory.rows.get(f.id)?.currentJti, f.token.jti, 'the family holds that token as current')
})

t.test("startFamily: the token's exp is the store's (capped at the family's end)", async (t) => {
  const { tokens, clock, starts } = setup({ refreshTokenTtl: 7 * 86400, refreshFamilyTtl: 3600 })
  const sec = epochSeconds(clock)
  const { family, refresh } = await tokens.startFamily({ userId: USER, client, scope: 'read', meta })
  t.equal(starts[0]!.token.exp, sec + 7 * 86400, 'the service asks for the idle lifetime')
  t.equal(family.currentExp, sec + 3600, 'the store caps it at the family end')
  t.equal(decodeJwt(refresh.token).payload.exp, sec + 3600, 'and the token says what the store kept')
  t.equal(refresh.expiresIn, 3600, 'so does expires_in (the cookie Max-Age)')
})

t.test('startFamily: signs with the key chosen before the write, whatever the ring does meanwhile', async (t) => {
  const { tokens, keys, setDuringWrite, verify } = setup()
  // An emergency rotation lands while the family is written: k1 is withdrawn, k2 signs now.
  setDuringWrite(() => {
    keys.remove(k1!.kid)
    keys.activate(k2!.kid)
  })
  const { family, refresh } = await tokens.startFamily({ userId: USER, client, scope: 'read', meta })
  t.equal(family.currentKid, k1!.kid, 'the family names the key chosen first')
  t.equal(decodeJwt(refresh.token).header.kid, k1!.kid, 'and so does the token')
  t.equal(verify(refresh.token, 'refresh').kid, k1!.kid, 'signed by that key (no error, no mismatch)')
  t.same(keys.signerForCalls, [], 'the chosen key was used as is, not looked up again')
})

t.test('rotate: the next token is chosen, and its key returned, before the write', async (t) => {
  const { tokens, keys, clock, setDuringWrite, memory } = setup({ refreshTokenTtl: 3600 })
  const { family } = await tokens.startFamily({ userId: USER, client, scope: 'read write', meta })
  clock.advance(60)
  setDuringWrite(() => keys.activate(k2!.kid))
  const { win, signer } = await tokens.rotate({ familyId: family.id, presentedJti: family.currentJti, withinScope: ['read'] })
  t.equal(signer.kid, k1!.kid, 'the key chosen before the write is returned')
  t.equal(win?.family.currentKid, k1!.kid, 'and is the one the new token names')
  t.not(win?.family.currentJti, family.currentJti, 'a new jti')
  t.match(win?.family.currentJti, JTI)
  t.equal(win?.family.currentIat, epochSeconds(clock), 'iat: now')
  t.equal(win?.family.currentExp, epochSeconds(clock) + 3600, 'exp: a full idle lifetime from now')
  t.equal(win?.role, 'user')
  t.equal(memory.rows.get(family.id)?.previousJti, family.currentJti, 'the presented token is spent')
  const lost = await tokens.rotate({ familyId: family.id, presentedJti: family.currentJti })
  t.equal(lost.win, null, 'a spent token does not rotate again')
  t.equal(lost.signer.kid, k2!.kid, 'a lost rotation still names the key of the moment')
})

t.test('signCurrent: the same bytes every time, by the key the kid names', async (t) => {
  const { tokens, keys, clock, verify } = setup({ refreshTokenTtl: 3600 })
  const { family, refresh } = await tokens.startFamily({ userId: USER, client, scope: 'read', meta })
  t.equal((await tokens.signCurrent(family)).token, refresh.token, 're-signed byte for byte')
  t.equal((await tokens.signCurrent(family, keys.signer)).token, refresh.token, 'with the chosen key when it matches')
  t.same(keys.signerForCalls, [k1!.kid], 'only the call without a chosen key looked it up')

  keys.activate(k2!.kid)
  keys.signerForCalls.length = 0
  const again = await tokens.signCurrent(family, keys.signer)
  t.equal(again.token, refresh.token, 'an older kid: still the same token')
  t.same(keys.signerForCalls, [k1!.kid], 'signed through signerFor, not by the new active key')
  t.equal(verify(again.token, 'refresh').kid, k1!.kid)

  clock.advance(1000)
  t.equal((await tokens.signCurrent(family)).expiresIn, 2600, 'expires_in counts down to the token exp')
  clock.advance(5000)
  t.equal((await tokens.signCurrent(family)).expiresIn, 0, 'never negative')

  keys.remove(k1!.kid)
  await rejectsOAuth(t, tokens.signCurrent(family, keys.signer), {
    error: 'invalid_grant',
    description: 'The refresh token was signed by a key that has been withdrawn; sign in again.',
    status: 400,
  })
})
