// Security review, finding 4: a token has exactly one spelling. An RS256 signature is 256 bytes,
// 342 base64url characters whose last one carries 4 unused low bits: 15 other characters decode
// to the same bytes, and a decoder that ignores those bits would take 15 other strings for the
// same token (a token denied by its string, or counted by it, would slip through). Tessera
// requires each segment to be the canonical encoding of its bytes.
import t from 'tap'
import { verifyToken } from '../../src/oauth/tokens/verify.js'
import { build, eachLeg } from '../helpers/build.js'
import { makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** The other spellings of a base64url string whose last character has unused low bits. */
function otherSpellings(segment: string): string[] {
  // Bits the last character carries beyond the data: 2 when length % 4 is 3, 4 when it is 2.
  const unused = { 2: 4, 3: 2 }[(segment.length % 4) as 2 | 3]
  if (!unused) return []
  const value = ALPHABET.indexOf(segment.at(-1)!)
  const base = value & ~((1 << unused) - 1)
  return Array.from({ length: 1 << unused }, (_, low) => base | low)
    .filter((v) => v !== value)
    .map((v) => segment.slice(0, -1) + ALPHABET[v])
}

/** The token with its last segment spelled otherwise, each way it can be. */
function variants(jwt: string): string[] {
  const [h, p, s] = jwt.split('.') as [string, string, string]
  return otherSpellings(s).map((sig) => `${h}.${p}.${sig}`)
}

t.test('the helper finds the 15 other spellings of a 256-byte signature, which decode to the same bytes', async (t) => {
  const sig = Buffer.alloc(256, 7).toString('base64url')
  t.equal(sig.length, 342)
  const others = otherSpellings(sig)
  t.equal(others.length, 15)
  for (const o of others) t.same(Buffer.from(o, 'base64url'), Buffer.from(sig, 'base64url'), `${o.at(-1)} decodes the same`)
})

eachLeg(t, async (t, leg) => {
  const { app } = await build(t, leg)
  const client = await makeClient(app)
  const user = await makeUser(app)
  const verifyOpts = () => ({ keys: app.keys, issuer: app.config.issuer, now: Math.floor(Date.now() / 1000) })

  t.test('an access token spelled otherwise: inactive at /introspect, 401 at /me', async (t) => {
    const s = await signIn(app, client, user)
    const others = variants(s.access_token)
    t.equal(others.length, 15, 'a 2048-bit signature has 15 other spellings')
    for (const jwt of others) {
      t.throws(() => verifyToken(jwt, ['access'], verifyOpts()), { name: 'TokenRejected' }, `verifyToken refuses …${jwt.slice(-3)}`)
      t.same((await post(app, '/introspect', client, { token: jwt })).json(), { active: false }, `/introspect: inactive (…${jwt.slice(-3)})`)
      const me = await app.inject({ url: '/me', headers: { authorization: `Bearer ${jwt}` } })
      t.equal(me.statusCode, 401, `/me: 401 (…${jwt.slice(-3)})`)
      t.equal(me.json().error, 'invalid_token')
    }
    t.equal((await post(app, '/introspect', client, { token: s.access_token })).json().active, true, 'the real token is still active')
    t.equal((await app.inject({ url: '/me', headers: { authorization: `Bearer ${s.access_token}` } })).statusCode, 200)
  })

  t.test('a refresh token spelled otherwise: invalid_grant, inactive, and the real one still refreshes', async (t) => {
    const s = await signIn(app, client, user)
    const others = variants(s.refresh_token!)
    t.equal(others.length, 15)
    for (const jwt of others) {
      const res = await token(app, client, { grant_type: 'refresh_token', refresh_token: jwt })
      t.equal(res.statusCode, 400, `refresh: 400 (…${jwt.slice(-3)})`)
      t.equal(res.json().error, 'invalid_grant')
      t.same((await post(app, '/introspect', client, { token: jwt })).json(), { active: false }, `/introspect: inactive (…${jwt.slice(-3)})`)
    }
    const real = await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
    t.equal(real.statusCode, 200, 'the real refresh token was never spent by a look-alike')
  })

  t.test('header and payload segments must be canonical too', async (t) => {
    const s = await signIn(app, client, user)
    const [h, p, sig] = s.access_token.split('.') as [string, string, string]
    // Whatever their unused bits, these never verify: the signature covers the segments' text.
    for (const other of otherSpellings(h)) t.throws(() => verifyToken(`${other}.${p}.${sig}`, ['access'], verifyOpts()), { name: 'TokenRejected' })
    for (const other of otherSpellings(p)) t.throws(() => verifyToken(`${h}.${other}.${sig}`, ['access'], verifyOpts()), { name: 'TokenRejected' })
    // A segment whose length no base64url encoding has (4n + 1) is malformed.
    t.throws(() => verifyToken(`${h}.${p}.${sig}AAA`, ['access'], verifyOpts()), { name: 'TokenRejected' })
  })
})
