// grant_type=password (RFC 6749 §4.3): each guard in code order with its RFC 6749 §5.2 error, the
// audit events, and the rehash of a weaker stored hash. Real argon2, real tokens; stores in memory.
import { randomUUID } from 'node:crypto'
import argon2 from 'argon2'
import t from 'tap'
import { hashPassword, needsRehash } from '../../../src/accounts/passwords.js'
import { epochSeconds } from '../../../src/lib/clock.js'
import { passwordGrant } from '../../../src/oauth/grants/password.js'
import { tokenService } from '../../../src/oauth/tokens/service.js'
import { verifyToken } from '../../../src/oauth/tokens/verify.js'
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
  passwordCheck,
  rejectsOAuth,
  rsaKeys,
  unitConfig,
} from '../../helpers/unit.js'

const PASSWORD = 'correct horse battery'
const [[key], currentHash, weakHash] = await Promise.all([
  rsaKeys(1),
  hashPassword(PASSWORD),
  // What an older deployment stored: argon2id at a quarter of today's memory.
  argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 2, parallelism: 1 }),
])
const client = makeClient({ id: 'first-party', scopes: ['read', 'write'] })
const INVALID = { error: 'invalid_grant', description: 'Invalid email or password.', status: 400 }

function setup() {
  const clock = frozenClock()
  const keys = new MemoryKeyRing([key!, 'active'])
  const users = memoryUsers()
  const families = memoryFamilies(users)
  const audit = auditLog()
  const config = unitConfig()
  const tokens = tokenService({ config, keys, clock, families })
  const grant = passwordGrant({ users, families, tokens, check: passwordCheck(clock, audit), audit, clock })
  const addUser = (email: string, over: { passwordHash?: string; role?: Role; disabledAt?: Date | null } = {}) =>
    users.add({ id: randomUUID(), email, passwordHash: over.passwordHash ?? currentHash, role: over.role ?? 'user', disabledAt: over.disabledAt ?? null })
  const signIn = (username: string, password: string, scope?: string) =>
    grant.handle({ username, password, ...(scope === undefined ? {} : { scope }) }, { client, meta })
  const verify = (token: string, kind: 'access' | 'refresh') =>
    verifyToken(token, [kind], { keys, issuer: ISSUER, now: epochSeconds(clock), ...(kind === 'access' ? { audience: 'api' } : {}) })
  return { clock, users, families, audit, tokens, grant, addUser, signIn, verify }
}

t.test('the grant_type it handles', async (t) => {
  t.equal(setup().grant.grantType, 'password')
})

t.test('a scope outside the client is invalid_scope, before any account is looked up', async (t) => {
  const { signIn, addUser, users, audit } = setup()
  addUser('alice@example.com')
  await rejectsOAuth(t, signIn('alice@example.com', PASSWORD, 'read admin'), { error: 'invalid_scope', description: 'Scope not allowed: admin.', status: 400 })
  await rejectsOAuth(t, signIn('alice@example.com', PASSWORD, 'read "x"'), { error: 'invalid_request', description: 'The scope parameter is malformed.' })
  t.same(users.lookups, [], 'no lookup, no argon2')
  t.same(audit.events, [], 'and no sign-in event')
})

t.test('unknown email and wrong password: one answer, each audited as signin.failed', async (t) => {
  const { signIn, addUser, audit, families } = setup()
  const alice = addUser('alice@example.com')
  const unknown = await rejectsOAuth(t, signIn('nobody@example.com', PASSWORD), INVALID, 'unknown email')
  const wrong = await rejectsOAuth(t, signIn('alice@example.com', 'not the password'), INVALID, 'wrong password')
  t.same(unknown?.toJSON(), wrong?.toJSON(), 'the client cannot tell them apart')
  t.equal(unknown?.reason, 'no such account', 'the log can')
  t.equal(wrong?.reason, 'wrong password')
  t.same(audit.events, [
    { type: 'signin.failed', subjectId: null, clientId: 'first-party', ip: meta.ip, userAgent: meta.userAgent, details: { via: 'password_grant' } },
    { type: 'signin.failed', subjectId: alice.id, clientId: 'first-party', ip: meta.ip, userAgent: meta.userAgent, details: { via: 'password_grant' } },
  ])
  t.equal(families.rows.size, 0, 'no family started')
})

t.test('a disabled account: invalid_grant, and every family of it revoked', async (t) => {
  const { signIn, addUser, users, families, tokens, audit, clock } = setup()
  const carol = addUser('carol@example.com')
  const dave = addUser('dave@example.com')
  const a = await tokens.startFamily({ userId: carol.id, client, scope: 'read', meta })
  const b = await tokens.startFamily({ userId: carol.id, client, scope: 'write', meta })
  const d = await tokens.startFamily({ userId: dave.id, client, scope: 'read', meta })
  clock.advance(30)
  users.rows.get(carol.id)!.disabledAt = new Date(clock.now() - 1000)

  // The wrong password revokes nothing: a stranger must not be able to end carol's sessions.
  await rejectsOAuth(t, signIn('carol@example.com', 'guess'), INVALID, 'disabled, wrong password')
  t.equal(families.rows.get(a.family.id)?.revokedAt, null, 'a guess revokes nothing')

  const err = await rejectsOAuth(t, signIn('carol@example.com', PASSWORD), INVALID, 'disabled, right password')
  t.equal(err?.reason, 'account disabled')
  for (const f of [a, b]) {
    const row = families.rows.get(f.family.id)!
    t.same(
      { revokedAt: row.revokedAt?.getTime(), reason: row.revokedReason },
      { revokedAt: clock.now(), reason: 'user_disabled' },
      `family ${f.family.scope} revoked`,
    )
  }
  t.equal(families.rows.get(d.family.id)?.revokedAt, null, "another user's family is untouched")
  t.equal(families.rows.size, 3, 'no new family')
  t.same(
    audit.events.map((e) => [e.type, e.details]),
    [
      ['signin.failed', { via: 'password_grant' }],
      ['signin.failed', { via: 'password_grant', reason: 'disabled' }],
      ['family.revoked', { sid: a.family.id, reason: 'user_disabled' }],
      ['family.revoked', { sid: b.family.id, reason: 'user_disabled' }],
    ],
    'the guess and the refusal are audited, and each family revoked; no signin.ok',
  )
})

t.test('a hash weaker than today is replaced on sign-in; a current one is not', async (t) => {
  const { signIn, addUser, users } = setup()
  t.ok(needsRehash(weakHash), 'the fixture is weaker than ARGON2')
  const old = addUser('old@example.com', { passwordHash: weakHash })
  const current = addUser('current@example.com')
  await signIn('current@example.com', PASSWORD)
  t.same(users.rehashed, [], 'a current hash is kept')
  await signIn('old@example.com', PASSWORD)
  t.equal(users.rehashed.length, 1, 'rehashed once')
  const stored = users.rehashed[0]!
  t.equal(stored.id, old.id)
  t.match(stored.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, "today's parameters")
  t.notOk(needsRehash(stored.passwordHash))
  t.ok(await argon2.verify(stored.passwordHash, PASSWORD), 'the new hash is of the same password')
  t.equal(users.rows.get(current.id)?.passwordHash, currentHash)
  await rejectsOAuth(t, signIn('old@example.com', 'wrong'), INVALID, 'a wrong password never rehashes')
  t.equal(users.rehashed.length, 1)
})

t.test('success: a new family, its refresh token, an access token naming it, signin.ok', async (t) => {
  const { signIn, addUser, users, families, audit, verify } = setup()
  const erin = addUser('erin@example.com', { role: 'admin' })
  const result = await signIn('  Erin@Example.COM ', PASSWORD)
  t.same(users.lookups, ['erin@example.com'], 'the email is normalised before the lookup')
  t.equal(result.scope, 'read write', "no scope asked: all the client's")
  t.ok(result.refresh, 'a refresh token')

  const refresh = verify(result.refresh!.token, 'refresh').claims
  const access = verify(result.access.token, 'access').claims
  const family = families.rows.get(refresh.sid!)!
  t.ok(family, 'the refresh token names a stored family')
  t.same(
    { userId: family.userId, clientId: family.clientId, scope: family.scope, ip: family.ip, userAgent: family.userAgent, currentJti: family.currentJti },
    { userId: erin.id, clientId: 'first-party', scope: 'read write', ip: meta.ip, userAgent: meta.userAgent, currentJti: refresh.jti },
  )
  t.same(
    { sub: access.sub, client_id: access.client_id, scope: access.scope, roles: access.roles, sid: access.sid },
    { sub: erin.id, client_id: 'first-party', scope: 'read write', roles: ['admin'], sid: family.id },
  )
  t.equal(refresh.sub, erin.id)
  t.same(audit.events, [
    { type: 'signin.ok', actorId: erin.id, subjectId: erin.id, clientId: 'first-party', ip: meta.ip, userAgent: meta.userAgent, details: { sid: family.id } },
  ])

  const narrow = await signIn('erin@example.com', PASSWORD, 'write write')
  t.equal(narrow.scope, 'write', 'a narrower scope, duplicates collapsed')
  t.equal(decodeJwt(narrow.access.token).payload.scope, 'write')
  t.equal(families.rows.get(decodeJwt(narrow.refresh!.token).payload.sid as string)?.scope, 'write', 'the family holds the narrower scope')
  t.equal(families.rows.size, 2, 'every sign-in its own family')
})
