// argon2id hashing: verification against the dummy hash, and the bound on how many run at once.
import argon2 from 'argon2'
import t from 'tap'
import { hashPassword, setHashConcurrency, verifyPassword } from '../../src/accounts/passwords.js'

t.test('verify: right, wrong, and no user at all (still pays for a verification)', async (t) => {
  const hash = await hashPassword('correct horse')
  t.equal(await verifyPassword(hash, 'correct horse'), true)
  t.equal(await verifyPassword(hash, 'wrong horse'), false)
  t.equal(await verifyPassword(undefined, 'correct horse'), false)
  t.equal(await verifyPassword('not-a-hash', 'x'), false, 'a corrupt stored hash is a failed sign-in, not a crash')
})

t.test('no more hashes run at once than PASSWORD_HASH_CONCURRENCY', async (t) => {
  const original = argon2.hash
  let running = 0
  let peak = 0
  argon2.hash = (async (...args: Parameters<typeof original>) => {
    running++
    peak = Math.max(peak, running)
    try {
      return await original(...args)
    } finally {
      running--
    }
  }) as typeof original
  t.teardown(() => {
    argon2.hash = original
    setHashConcurrency(4)
  })
  setHashConcurrency(2)
  const hashes = await Promise.all(Array.from({ length: 6 }, (_, i) => hashPassword(`password ${i}`)))
  t.equal(hashes.length, 6, 'every hash completes')
  t.equal(peak, 2, 'at most two ran at once')
  setHashConcurrency(1)
  peak = 0
  await Promise.all(Array.from({ length: 3 }, (_, i) => hashPassword(`again ${i}`)))
  t.equal(peak, 1)
})
