// grant_type=refresh_token (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2,
// docs/tokens.md#rotation): each guard in code order with its RFC 6749 §5.2 error. Real tokens,
// real token service; users and families in memory (the rotation mirrors the store's SQL).
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { epochSeconds } from '../../../src/lib/clock.js'
import { refreshTokenGrant } from '../../../src/oauth/grants/refresh_token.js'
import { tokenService } from '../../../src/oauth/tokens/service.js'
import { type RefreshClaims, signJwt } from '../../../src/oauth/tokens/sign.js'
import { verifyToken } from '../../../src/oauth/tokens/verify.js'
import type { Client } from '../../../src/stores/clients.js'
import type { Role } from '../../../src/stores/users.js'
import { frozenClock } from '../../helpers/clock.js'
import {
  auditLog,
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

const [key, foreign] = await rsaKeys(2)
const web = makeClient({ id: 'web', scopes: ['read', 'write', 'admin'] })
const other = makeClient({ id: 'other', scopes: ['read', 'write'] })
const spa = makeClient({ id: 'spa', public: true, cookieDelivery: true, scopes: ['read', 'write'] })

const INVALID = { error: 'invalid_grant', description: 'The refresh token is invalid.', status: 400 }
const EXPIRED = { error: 'invalid_grant', description: 'The refresh token has expired.', status: 400 }
const GENERIC = { error: 'invalid_grant', description: 'The grant is invalid, expired or revoked.', status: 400 }
const REVOKED = { error: 'invalid_grant', description: 'The refresh token has been revoked.', status: 400 }
const REUSED = { error: 'invalid_grant', description: 'The refresh token was already used; the session has been revoked.', status: 400 }

function setup(over: Partial<UnitConfig> = {}) {
  const clock = frozenClock()
  const keys = new MemoryKeyRing([key!, 'active'])
  const users = memoryUsers()
  const memory = memoryFamilies(users)
  /** When set, the next rotation loses as if another writer had got there first. */
  const hooks = { loseNextRotation: false }
  const families = {
    ...memory,
    rotate: async (r: Parameters<typeof memory.rotate>[0]) => {
      if (hooks.loseNextRotation) {
        hooks.loseNextRotation = false
        return null
      }
      return memory.rotate(r)
    },
  }
  const audit = auditLog()
  const config = unitConfig(over)
  const tokens = tokenService({ config, keys, clock, families })
  const grant = refreshTokenGrant({ config, keys, users, families, tokens, audit, clock })
  const addUser = (role: Role = 'user') => users.add({ id: randomUUID(), email: `${randomUUID()}@example.com`, passwordHash: 'unused', role })
  /** A sign-in: a new family and its first refresh token. */
  const signIn = async (userId: string, client: Client = web, scope = 'read write') => {
    const { family, refresh } = await tokens.startFamily({ userId, client, scope, meta })
    return { sid: family.id, rt: refresh.token }
  }
  const use = (rt: string | undefined, o: { scope?: string; client?: Client; cookie?: string } = {}) =>
    grant.handle(
      { ...(rt === undefined ? {} : { refresh_token: rt }), ...(o.scope === undefined ? {} : { scope: o.scope }) },
      { client: o.client ?? web, meta, cookieRefreshToken: o.cookie },
    )
  const claims = (token: string, kind: 'access' | 'refresh') =>
    verifyToken(token, [kind], { keys, issuer: ISSUER, now: epochSeconds(clock), ...(kind === 'access' ? { audience: 'api' } : {}) }).claims
  return { clock, keys, users, memory, hooks, audit, config, tokens, grant, addUser, signIn, use, claims }
}

t.test('the grant_type it handles', async (t) => {
  t.equal(setup().grant.grantType, 'refresh_token')
})

t.test('the token: from the body, or the cookie of a cookie client only', async (t) => {
  const { addUser, signIn, use } = setup()
  const user = addUser()
  const required = { error: 'invalid_request', description: 'refresh_token is required.', status: 400 }
  await rejectsOAuth(t, use(undefined), required, 'no token at all')
  const web1 = await signIn(user.id)
  await rejectsOAuth(t, use(undefined, { cookie: web1.rt }), required, 'a cookie is ignored for a client without cookie delivery')
  const s = await signIn(user.id, spa, 'read')
  const viaCookie = await use(undefined, { client: spa, cookie: s.rt })
  t.ok(viaCookie.refresh, 'a cookie client refreshes from its cookie')
  const s2 = await signIn(user.id, spa, 'read')
  const both = await use(s2.rt, { client: spa, cookie: 'garbage' })
  t.ok(both.refresh, 'the body wins over the cookie')
  await rejectsOAuth(t, use(undefined, { client: spa }), required, 'a cookie client without its cookie')
})

t.test('a malformed scope is invalid_request, before the token is looked at', async (t) => {
  const { use } = setup()
  await rejectsOAuth(t, use('not-a-token', { scope: 'read\\write' }), { error: 'invalid_request', description: 'The scope parameter is malformed.' })
})

t.test('a token that does not verify: invalid_grant, "expired" only when it is ours and expired', async (t) => {
  const { addUser, signIn, use, tokens, clock, keys, config } = setup()
  const user = addUser()
  const cases: [string, () => Promise<string>, typeof INVALID, string][] = [
    ['garbage', async () => 'garbage', INVALID, 'malformed token'],
    ['an access token', async () => (await tokens.access({ sub: user.id, client: web, scope: 'read' })).token, INVALID, 'wrong token type'],
    [
      'signed by a key not in the ring',
      async () => {
        const { rt } = await signIn(user.id)
        const claims = decodeJwt(rt).payload as unknown as RefreshClaims
        return signJwt(claims, 'rt+jwt', { kid: key!.kid, key: foreign!.privateKey })
      },
      INVALID,
      'signature verification failed',
    ],
  ]
  for (const [what, make, want, reason] of cases) {
    const err = await rejectsOAuth(t, use(await make()), want, what)
    t.equal(err?.reason, reason, `${what}: the reason, for the log`)
  }
  const { rt } = await signIn(user.id)
  clock.advance(config.refreshTokenTtl)
  const expired = await rejectsOAuth(t, use(rt), EXPIRED, 'at its exp (REFRESH_TOKEN_TTL after issue)')
  t.equal(expired?.reason, 'token expired')

  const fresh = await signIn(user.id)
  keys.remove(key!.kid)
  const withdrawn = await rejectsOAuth(t, use(fresh.rt), INVALID, 'signed by a withdrawn key')
  t.equal(withdrawn?.reason, 'unknown signing key')
})

t.test("another client's token: invalid_grant, and the token is not spent", async (t) => {
  const { addUser, signIn, use, memory } = setup()
  const user = addUser()
  const { sid, rt } = await signIn(user.id, web, 'read')
  const before = memory.rows.get(sid)!
  await rejectsOAuth(t, use(rt, { client: other }), {
    error: 'invalid_grant',
    description: 'The refresh token was issued to another client.',
    status: 400,
  })
  const after = memory.rows.get(sid)!
  t.same({ jti: after.currentJti, generation: after.generation, revokedAt: after.revokedAt }, { jti: before.currentJti, generation: 0, revokedAt: null })
  t.ok((await use(rt)).refresh, 'its own client can still use it')
})

t.test("rotation won: the family's next refresh token and an access token", async (t) => {
  const { addUser, signIn, use, memory, claims, clock, config } = setup()
  const user = addUser('admin')
  const { sid, rt } = await signIn(user.id)
  const firstJti = decodeJwt(rt).payload.jti
  clock.advance(60)
  const result = await use(rt)
  t.equal(result.scope, 'read write', "no scope asked: the family's")
  const refresh = claims(result.refresh!.token, 'refresh')
  const access = claims(result.access.token, 'access')
  const row = memory.rows.get(sid)!
  t.not(result.refresh!.token, rt, 'a new refresh token')
  t.same(
    { sid: refresh.sid, jti: refresh.jti, scope: refresh.scope, client_id: refresh.client_id, exp: refresh.exp },
    { sid, jti: row.currentJti, scope: 'read write', client_id: 'web', exp: epochSeconds(clock) + config.refreshTokenTtl },
    'same family, its new current token, a full idle lifetime',
  )
  t.same({ previousJti: row.previousJti, generation: row.generation, revokedAt: row.revokedAt }, { previousJti: firstJti, generation: 1, revokedAt: null })
  t.same(
    { sub: access.sub, sid: access.sid, scope: access.scope, roles: access.roles, client_id: access.client_id },
    { sub: user.id, sid, scope: 'read write', roles: ['admin'], client_id: 'web' },
  )
  t.equal(result.refresh!.expiresIn, config.refreshTokenTtl)
})

t.test('a narrower scope narrows the access token only; the family keeps its own', async (t) => {
  const { addUser, signIn, use, memory, claims } = setup()
  const user = addUser()
  const { sid, rt } = await signIn(user.id)
  const narrow = await use(rt, { scope: 'read' })
  t.equal(narrow.scope, 'read')
  t.equal(claims(narrow.access.token, 'access').scope, 'read')
  t.equal(claims(narrow.refresh!.token, 'refresh').scope, 'read write', 'the new refresh token keeps the family scope')
  t.equal(memory.rows.get(sid)?.scope, 'read write')
  const wide = await use(narrow.refresh!.token)
  t.equal(wide.scope, 'read write', 'the next refresh without scope gets the whole family scope back')
})

t.test('lost rotation: each reason, in code order', async (t) => {
  t.test('no such family, or a family of another client', async (t) => {
    const { addUser, signIn, use, keys, clock } = setup()
    const user = addUser()
    const now = epochSeconds(clock)
    const forged = (sid: string) =>
      signJwt({ iss: ISSUER, sub: user.id, aud: ISSUER, iat: now, exp: now + 60, jti: 'j', client_id: 'web', scope: 'read', sid }, 'rt+jwt', keys.signer)
    const gone = await rejectsOAuth(t, use(await forged(randomUUID())), GENERIC, 'a family that does not exist (deleted with its client or user)')
    t.equal(gone?.reason, 'no such family for this client')
    const theirs = await signIn(user.id, other, 'read')
    const mixed = await rejectsOAuth(t, use(await forged(theirs.sid)), GENERIC, "a token naming another client's family")
    t.equal(mixed?.reason, 'no such family for this client')
  })

  t.test('a revoked family', async (t) => {
    const { addUser, signIn, use, memory, clock } = setup()
    const user = addUser()
    const { sid, rt } = await signIn(user.id)
    await memory.revoke(sid, 'logout', new Date(clock.now()))
    const err = await rejectsOAuth(t, use(rt), REVOKED)
    t.equal(err?.reason, 'family revoked: logout')
  })

  t.test('a family past its end (isLive), though the token itself has not expired', async (t) => {
    const { addUser, signIn, use, memory, clock } = setup()
    const user = addUser()
    const { sid, rt } = await signIn(user.id)
    // The end moved earlier under the token (another instance, an operator): exp alone does not decide.
    memory.rows.set(sid, { ...memory.rows.get(sid)!, expiresAt: new Date(clock.now()) })
    await rejectsOAuth(t, use(rt), { error: 'invalid_grant', description: 'The refresh token has expired; sign in again.', status: 400 })
    t.equal(memory.rows.get(sid)?.revokedAt, null, 'an ended family is not revoked on top')
  })

  t.test('a disabled or deleted user: invalid_grant, and every family of the user revoked', async (t) => {
    const { addUser, signIn, use, memory, users, clock } = setup()
    const user = addUser()
    const a = await signIn(user.id)
    const b = await signIn(user.id, other, 'read')
    const bystander = addUser()
    const c = await signIn(bystander.id)
    clock.advance(10)
    users.rows.get(user.id)!.disabledAt = new Date(clock.now())
    const err = await rejectsOAuth(t, use(a.rt), GENERIC)
    t.equal(err?.reason, 'account disabled')
    for (const f of [a, b]) t.same([memory.rows.get(f.sid)?.revokedReason, memory.rows.get(f.sid)?.revokedAt?.getTime()], ['user_disabled', clock.now()])
    t.equal(memory.rows.get(c.sid)?.revokedAt, null, "another user's family is untouched")

    const gone = addUser()
    const g = await signIn(gone.id)
    users.rows.delete(gone.id)
    await rejectsOAuth(t, use(g.rt), GENERIC, 'a deleted user')
    t.equal(memory.rows.get(g.sid)?.revokedReason, 'user_disabled')
  })

  t.test('the current token with a scope wider than the family: invalid_scope, nothing spent', async (t) => {
    const { addUser, signIn, use, memory, audit } = setup()
    const user = addUser()
    const { sid, rt } = await signIn(user.id, web, 'read')
    // `write` is the client's, not the family's: the family's scope is the ceiling.
    await rejectsOAuth(t, use(rt, { scope: 'read write' }), { error: 'invalid_scope', description: 'Scope not allowed: write.', status: 400 })
    const row = memory.rows.get(sid)!
    t.same({ generation: row.generation, revokedAt: row.revokedAt }, { generation: 0, revokedAt: null }, 'not rotated, not revoked')
    t.same(audit.events, [], 'not reuse')
    t.ok((await use(rt, { scope: 'read' })).refresh, 'the token still refreshes within the family scope')
  })

  t.test('the current token, rotation lost to another writer: invalid_grant, never a success', async (t) => {
    const { addUser, signIn, use, hooks, memory } = setup()
    const user = addUser()
    const { sid, rt } = await signIn(user.id)
    hooks.loseNextRotation = true
    await rejectsOAuth(t, use(rt), GENERIC)
    t.equal(memory.rows.get(sid)?.revokedAt, null, 'not taken for reuse')
  })
})

t.test('REFRESH_REUSE_LEEWAY: the previous token, retried in time, gets the current one again', async (t) => {
  const { addUser, signIn, use, memory, clock, audit, claims } = setup({ refreshReuseLeeway: 10 })
  const user = addUser('admin')
  const { sid, rt: rt1 } = await signIn(user.id)
  clock.advance(5)
  const second = await use(rt1)
  const rt2 = second.refresh!.token

  clock.advance(10)
  const retry = await use(rt1)
  t.equal(retry.refresh?.token, rt2, 'exactly at the leeway: the current refresh token, byte for byte')
  t.equal(retry.scope, 'read write')
  t.same(claims(retry.access.token, 'access').roles, ['admin'], "a fresh access token, the user's role read from the store")
  t.equal(memory.rows.get(sid)?.generation, 1, 'nothing rotated')
  await rejectsOAuth(
    t,
    use(rt1, { scope: 'read admin' }),
    { error: 'invalid_scope', description: 'Scope not allowed: admin.' },
    'never wider, even in the leeway',
  )
  const narrower = await use(rt1, { scope: 'read' })
  t.equal(narrower.scope, 'read', 'the same narrowing as before is fine')
  t.equal(narrower.refresh?.token, rt2)
  t.same(audit.events, [], 'no reuse recorded')
  t.equal(memory.rows.get(sid)?.revokedAt, null)

  clock.advance(1)
  await rejectsOAuth(t, use(rt1), REUSED, 'one second past the leeway: reuse')
  t.equal(memory.rows.get(sid)?.revokedReason, 'reuse_detected')
})

t.test('REFRESH_REUSE_LEEWAY covers the previous token only, not older ones', async (t) => {
  const { addUser, signIn, use, memory } = setup({ refreshReuseLeeway: 60 })
  const user = addUser()
  const { sid, rt: rt0 } = await signIn(user.id)
  const rt1 = (await use(rt0)).refresh!.token
  await use(rt1)
  await rejectsOAuth(t, use(rt0), REUSED, 'two generations back')
  t.equal(memory.rows.get(sid)?.revokedReason, 'reuse_detected')
})

t.test('reuse: the family is revoked, and recorded exactly once', async (t) => {
  const { addUser, signIn, use, memory, clock, audit } = setup()
  const user = addUser()
  const { sid, rt: rt1 } = await signIn(user.id)
  clock.advance(1)
  const rt2 = (await use(rt1)).refresh!.token
  clock.advance(1)
  await rejectsOAuth(t, use(rt1), REUSED, 'leeway 0: the spent token at once')
  const row = memory.rows.get(sid)!
  t.same([row.revokedAt?.getTime(), row.revokedReason], [clock.now(), 'reuse_detected'], 'revoked now, for reuse')
  t.same(audit.events, [
    { type: 'refresh.reuse_detected', subjectId: user.id, clientId: 'web', ip: meta.ip, userAgent: meta.userAgent, details: { sid, generation: 1 } },
    { type: 'family.revoked', subjectId: user.id, clientId: 'web', ip: meta.ip, userAgent: meta.userAgent, details: { sid, reason: 'reuse_detected' } },
  ])
  await rejectsOAuth(t, use(rt2), REVOKED, 'whoever holds the current token is out too')
  await rejectsOAuth(t, use(rt1), REVOKED, 'the spent token again')
  t.equal(audit.events.length, 2, 'no second record')
})

t.test('reuse raced by three requests: both refused, one record', async (t) => {
  const { addUser, signIn, use, audit } = setup()
  const user = addUser()
  const { rt: rt1 } = await signIn(user.id)
  await use(rt1)
  const results = await Promise.allSettled([use(rt1), use(rt1), use(rt1)])
  t.same(
    results.map((r) => r.status === 'rejected' && (r.reason as { error?: string }).error),
    ['invalid_grant', 'invalid_grant', 'invalid_grant'],
  )
  t.same(
    audit.events.map((e) => e.type),
    ['refresh.reuse_detected', 'family.revoked'],
    'the revocation that won records; the others find it done',
  )
})
