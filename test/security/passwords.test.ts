// Security review, finding 5: passwords are compared as the user meant them. The same
// characters typed on another keyboard or system (NFC `é` or NFD `e` + combining acute) are the
// same password; a NUL is never part of one; and the most common passwords are refused
// wherever a password is chosen (OWASP ASVS v4 2.1.7, v5 6.2.4).
import argon2 from 'argon2'
import t from 'tap'
import { checkNewPassword } from '../../src/accounts/accounts.js'
import { ARGON2, verifyPassword } from '../../src/accounts/passwords.js'
import { randomSecret, sha256 } from '../../src/lib/secrets.js'
import { build, eachLeg } from '../helpers/build.js'
import { makeClient, makeUser, signIn, token } from '../helpers/factories.js'

// The same passphrase in both Unicode normal forms: they differ as strings, not as text.
const NFC = 'Crème brûlée à Noël, façon grand-mère'.normalize('NFC')
const NFD = NFC.normalize('NFD')
const PASSPHRASE = 'ochre lantern quietly juggles seventeen umbrellas'
const COMMON = ['password123', 'qwertyuiop', 'iloveyou1']

t.test('the two spellings really differ, and the common ones really are common', async (t) => {
  t.not(NFC, NFD)
  t.not(NFC.length, NFD.length)
  t.equal(NFD.normalize('NFC'), NFC)
  for (const p of COMMON) t.throws(() => checkNewPassword(p), { error: 'invalid_request', message: /too common/ }, `${p} is refused`)
  for (const p of COMMON.map((p) => p.toUpperCase())) t.throws(() => checkNewPassword(p), { message: /too common/ }, `${p}: case does not help`)
  t.equal(checkNewPassword(PASSPHRASE), PASSPHRASE)
})

t.test('verifyPassword: NFC and NFD match each other; a NUL is a wrong password', async (t) => {
  const { hashPassword } = await import('../../src/accounts/passwords.js')
  const fromNfc = await hashPassword(NFC)
  const fromNfd = await hashPassword(NFD)
  t.equal(await verifyPassword(fromNfc, NFD), true, 'hashed as NFC, typed as NFD')
  t.equal(await verifyPassword(fromNfd, NFC), true, 'hashed as NFD, typed as NFC')
  const withNul = await argon2.hash('abcdefgh\u0000', ARGON2)
  t.equal(await verifyPassword(withNul, 'abcdefgh\u0000'), false, 'a NUL never matches, even against a hash made with one')
  t.equal(await verifyPassword(undefined, 'abcdefgh\u0000'), false)
})

eachLeg(t, async (t, leg) => {
  const { app, db } = await build(t, leg)
  const client = await makeClient(app)
  let n = 0
  const email = () => `pw${++n}-${leg}@example.com`
  const json = (method: 'POST' | 'PATCH', url: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method, url, payload: payload as object, headers: { 'content-type': 'application/json', ...headers } })
  const signUp = (address: string, password: string) => json('POST', '/users', { email: address, password })
  const signInWith = (address: string, password: string) => token(app, client, { grant_type: 'password', username: address, password })
  const hashOf = async (address: string) =>
    (await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE email = $1', [address]))[0]!.password_hash

  t.test('signed up in NFC, signed in with NFD; and the other way round', async (t) => {
    const a = email()
    t.equal((await signUp(a, NFC)).statusCode, 201)
    t.equal((await signInWith(a, NFD)).statusCode, 200, 'NFC at sign-up, NFD at sign-in')
    t.equal((await signInWith(a, NFC)).statusCode, 200)
    const b = email()
    t.equal((await signUp(b, NFD)).statusCode, 201)
    t.equal((await signInWith(b, NFC)).statusCode, 200, 'NFD at sign-up, NFC at sign-in')
    t.equal((await signInWith(b, NFD)).statusCode, 200)
  })

  t.test('an account hashed before normalisation still signs in, and is rehashed normalised', async (t) => {
    const user = await makeUser(app, { password: PASSPHRASE })
    // As an earlier Tessera stored it: the NFD string exactly as typed.
    const legacy = await argon2.hash(NFD, ARGON2)
    await app.stores.users.setPasswordHash(user.id, legacy)
    t.equal((await signInWith(user.email, NFD)).statusCode, 200, 'the spelling it was made with still works')
    const now = await hashOf(user.email)
    t.not(now, legacy, 'and the hash was replaced')
    t.equal(await verifyPassword(now, NFC), true, 'by one of the normalised form')
    t.equal((await signInWith(user.email, NFC)).statusCode, 200, 'so the other spelling works from then on')
    t.equal((await signInWith(user.email, 'not the passphrase')).json().error, 'invalid_grant')
  })

  t.test('a NUL: 400 at sign-up, a wrong password (invalid_grant) at sign-in', async (t) => {
    const a = email()
    const res = await signUp(a, 'nul \u0000 in the middle')
    t.equal(res.statusCode, 400)
    t.equal(res.json().error, 'invalid_request')
    t.same(await db.query('SELECT id FROM users WHERE email = $1', [a]), [], 'no account was made')
    const user = await makeUser(app, { password: PASSPHRASE })
    const signin = await signInWith(user.email, `${PASSPHRASE}\u0000`)
    t.equal(signin.statusCode, 400)
    t.same(signin.json(), { error: 'invalid_grant', error_description: 'Invalid email or password.' }, 'the answer of any wrong password')
  })

  t.test('common passwords are refused at sign-up, change and reset; a long unusual passphrase is not', async (t) => {
    const tooCommon = (res: { statusCode: number; json(): { error: string; error_description: string } }, what: string) => {
      t.equal(res.statusCode, 400, `${what}: 400`)
      t.equal(res.json().error, 'invalid_request', `${what}: invalid_request`)
      t.match(res.json().error_description, /too common/, `${what}: says it is too common`)
    }
    for (const p of COMMON) tooCommon(await signUp(email(), p), `sign-up with ${p}`)
    tooCommon(await signUp(email(), 'PassWord123'), 'sign-up with PassWord123 (case-insensitive)')
    t.equal((await signUp(email(), PASSPHRASE)).statusCode, 201, 'sign-up with a passphrase')

    const user = await makeUser(app, { password: PASSPHRASE })
    const { access_token } = await signIn(app, client, user)
    const bearer = { authorization: `Bearer ${access_token}` }
    for (const p of COMMON) {
      tooCommon(await json('POST', '/me/password', { current_password: PASSPHRASE, new_password: p }, bearer), `change to ${p}`)
    }
    t.equal((await signInWith(user.email, PASSPHRASE)).statusCode, 200, 'the password is unchanged')
    const changed = await json('POST', '/me/password', { current_password: PASSPHRASE, new_password: `${PASSPHRASE} again` }, bearer)
    t.equal(changed.statusCode, 200, 'a change to another passphrase')

    const resetToken = randomSecret()
    const now = Date.now()
    await app.stores.passwordResets.replace({ userId: user.id, tokenHash: sha256(resetToken), expiresAt: new Date(now + 3600_000), now: new Date(now) })
    for (const p of COMMON) tooCommon(await json('POST', '/password/reset', { token: resetToken, password: p }), `reset to ${p}`)
    const reset = await json('POST', '/password/reset', { token: resetToken, password: 'seven tangerines argue about cartography' })
    t.equal(reset.statusCode, 200, 'a reset to a passphrase, with the token the refusals left unspent')
    t.equal((await signInWith(user.email, 'seven tangerines argue about cartography')).statusCode, 200)
  })
})
