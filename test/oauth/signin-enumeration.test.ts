// Password sign-in is not an oracle (docs/endpoints.md#password-grant): unknown email and wrong password give the same
// answer for the same work. Timing is not asserted (shared machines); the argon2 work is.

import argon2 from 'argon2'
import t from 'tap'
import { build } from '../helpers/build.js'
import { makeClient, makeUser, token } from '../helpers/factories.js'

t.test('unknown email and wrong password: same status, same body, both pay for argon2', async (t) => {
  const { app, db } = await build(t, 'pglite')
  const client = await makeClient(app)
  const user = await makeUser(app)

  // Count argon2 verifications: the dummy-hash path must verify too.
  const original = argon2.verify
  let verifies = 0
  argon2.verify = (async (...args: Parameters<typeof original>) => {
    verifies++
    return original(...args)
  }) as typeof original
  t.teardown(() => {
    argon2.verify = original
  })

  const unknown = await token(app, client, { grant_type: 'password', username: 'nobody@example.com', password: 'whatever-password' })
  t.equal(verifies, 1, 'an unknown email still runs one argon2 verification')
  const wrong = await token(app, client, { grant_type: 'password', username: user.email, password: 'whatever-password' })
  t.equal(verifies, 2)
  t.equal(unknown.statusCode, 400)
  t.equal(wrong.statusCode, 400)
  t.same(unknown.json(), wrong.json())
  t.same(unknown.json(), { error: 'invalid_grant', error_description: 'Invalid email or password.' })
  const failures = await db.query("SELECT type FROM audit_events WHERE type = 'signin.failed'")
  t.equal(failures.length, 2, 'both failures are audited')
})

t.test('stored password hashes are argon2id at no less than OWASP minimum', async (t) => {
  const { app, db } = await build(t, 'pglite')
  const user = await makeUser(app)
  const [row] = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id])
  t.match(row!.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  t.notMatch(row!.password_hash, user.password)
})
