// Token signing inline and on libuv's pool (tokens/sign.ts): the same bytes either way, and
// the default follows the CPUs the process may use.
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { compactVerify, importJWK, type JWK } from 'jose'
import t from 'tap'
import { ACCESS_TYP, type AccessClaims, setInlineSigning, signJwt, signsInline } from '../../src/oauth/tokens/sign.js'

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const signer = { kid: 'k1', key: privateKey }
const claims: AccessClaims = {
  iss: 'https://issuer.example',
  sub: 'user-1',
  aud: 'api',
  iat: 1_800_000_000,
  exp: 1_800_000_900,
  jti: 'jti-1',
  client_id: 'app',
  scope: 'read',
}

t.test('inline and on the pool, a token is the same bytes and verifies with jose against the public JWK', async (t) => {
  const initial = signsInline()
  t.teardown(() => setInlineSigning(initial))

  setInlineSigning(true)
  const inline = await signJwt(claims, ACCESS_TYP, signer)
  setInlineSigning(false)
  const pooled = await signJwt(claims, ACCESS_TYP, signer)
  t.equal(inline, pooled, 'RSASSA-PKCS1-v1_5 is deterministic: the reuse leeway relies on it')

  const key = await importJWK({ ...(publicKey.export({ format: 'jwk' }) as JWK), alg: 'RS256' }, 'RS256')
  const { payload, protectedHeader } = await compactVerify(inline, key)
  t.same(protectedHeader, { alg: 'RS256', typ: 'at+jwt', kid: 'k1' })
  t.same(JSON.parse(new TextDecoder().decode(payload)), claims)
})

t.test('a key that cannot sign rejects the promise either way, never throws', async (t) => {
  const initial = signsInline()
  t.teardown(() => setInlineSigning(initial))
  for (const on of [true, false]) {
    setInlineSigning(on)
    let call: Promise<string> | undefined
    t.doesNotThrow(() => {
      call = signJwt(claims, ACCESS_TYP, { kid: 'k1', key: publicKey })
    }, `${on ? 'inline' : 'pool'}: no synchronous throw`)
    await t.rejects(call!, `${on ? 'inline' : 'pool'}: the promise rejects`)
  }
})

t.test('the default: inline when the process may use one CPU (taskset), on the pool when it may use more', async (t) => {
  const module = fileURLToPath(new URL('../../src/oauth/tokens/sign.ts', import.meta.url))
  const script = `import(${JSON.stringify(module)}).then((m) => process.stdout.write(String(m.signsInline())))`
  const run = (prefix: string[]) => execFileSync(prefix[0]!, [...prefix.slice(1), process.execPath, '--import', 'tsx', '-e', script], { encoding: 'utf8' })
  t.equal(run(['taskset', '-c', '0']), 'true', 'pinned to one core: inline')
  t.equal(run(['taskset', '-c', '0,1']), 'false', 'two cores: on the pool')
})
