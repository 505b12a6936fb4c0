// Security review, finding 6: the key ring does not trust the public JWK stored beside each
// sealed private key. A row whose public key is not its private key's, or whose kid is not
// the RFC 7638 thumbprint of that key, would publish one key and sign with another (or let a
// database writer choose the key tokens verify with): Tessera refuses to load such a ring,
// naming the key, at start and at every reload.
import { generateKeyPairSync } from 'node:crypto'
import t from 'tap'
import { seal } from '../../src/keys/sealing.js'
import { build, eachLeg } from '../helpers/build.js'

interface Row {
  kid: string
  state: string
  n: string
}

eachLeg(t, async (t, leg) => {
  const rows = async (db: Awaited<ReturnType<typeof build>>['db']) =>
    db.query<Row>(`SELECT kid, state::text AS state, public_jwk->>'n' AS n FROM signing_keys ORDER BY created_at, kid`)
  /** The public_jwk of `kid` given another key's modulus, as a database writer could. */
  const swapN = (db: Awaited<ReturnType<typeof build>>['db'], kid: string, n: string) =>
    db.query(`UPDATE signing_keys SET public_jwk = jsonb_set(public_jwk::jsonb, '{n}', to_jsonb($1::text)) WHERE kid = $2`, [n, kid])

  for (const state of ['active', 'next'] as const) {
    t.test(`the ${state} key's public JWK swapped for another key's: a restart refuses, naming the key`, async (t) => {
      const first = await build(t, leg)
      const ring = await rows(first.db)
      const victim = ring.find((r) => r.state === state)!
      const donor = ring.find((r) => r.kid !== victim.kid)!
      await swapN(first.db, victim.kid, donor.n)

      await t.rejects(build(t, leg, { db: first.db, config: first.config }), {
        name: /Error$/,
        message: new RegExp(`signing key ${victim.kid}\\b.*public key`),
      })
      // A running instance that reloads the ring (a poll) refuses the same way and keeps its old ring.
      const { kid: signing } = first.app.keys.signer
      const jwks = first.app.keys.jwks.body
      await t.rejects(first.app.keys.load(), { message: new RegExp(`signing key ${victim.kid}\\b`) })
      t.equal(first.app.keys.signer.kid, signing, 'it still signs with the key it had')
      t.equal(first.app.keys.jwks.body, jwks, 'and publishes what it published')
    })
  }

  t.test('a key whose kid is not the thumbprint of its key: a restart refuses, naming it', async (t) => {
    const first = await build(t, leg)
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
    const { n, e } = publicKey.export({ format: 'jwk' })
    const kid = 'not-the-thumbprint-of-this-key-at-all-00000'
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' })
    await first.app.stores.keys.create({
      kid,
      state: 'retiring',
      publicJwk: { kty: 'RSA', n: n!, e: e! },
      sealedPrivateKey: seal(first.config.keyEncryptionKey!, pkcs8, kid),
      at: new Date(),
    })
    await t.rejects(build(t, leg, { db: first.db, config: first.config }), { message: new RegExp(`signing key ${kid}\\b.*thumbprint`) })
  })

  t.test('an untouched ring restarts with every key', async (t) => {
    const first = await build(t, leg)
    const again = await build(t, leg, { db: first.db, config: first.config })
    t.equal(again.app.keys.signer.kid, first.app.keys.signer.kid)
    t.same(again.app.keys.keys.map((k) => k.kid).sort(), (await rows(first.db)).map((r) => r.kid).sort(), 'every stored key is loaded')
  })
})
