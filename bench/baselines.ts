// The hardware baselines, run by bench/run.ts under `taskset -c 0` (the core Tessera runs on):
//   sign       jose RS256 signs/s (RSA-2048 CryptoKey, as the key ring holds it)
//   node-sign  node:crypto RS256 signs/s with a KeyObject, synchronous (for comparison only)
//   argon2     argon2id hashes/s at Tessera's parameters (src/accounts/passwords.ts)
//   fastify    a bare Fastify 5 route serving given JWKS bytes; prints {"port"} and serves until SIGTERM
// The timed modes print one JSON line: { "runs": [ops/s, …] }.
import { createSign, generateKeyPairSync, randomUUID, webcrypto } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import argon2 from 'argon2'
import Fastify from 'fastify'
import { SignJWT } from 'jose'
import { ARGON2 } from '../src/accounts/passwords.js'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '50' },
    jwks: { type: 'string' },
  },
})
const mode = positionals[0]
const seconds = Number(values.seconds)
const runs = Number(values.runs)
const warmup = Number(values.warmup)
const concurrency = Number(values.concurrency)

/** `concurrency` loops of `op` for `secs` seconds; operations per second. Bounded by the deadline. */
async function rate(op: () => Promise<unknown> | unknown, secs: number): Promise<number> {
  let done = 0
  const start = performance.now()
  const deadline = start + secs * 1000
  const loop = async () => {
    while (performance.now() < deadline) {
      await op()
      done++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  return done / ((performance.now() - start) / 1000)
}

async function timed(op: () => Promise<unknown> | unknown): Promise<void> {
  if (warmup > 0) await rate(op, warmup)
  const results: number[] = []
  for (let i = 0; i < runs; i++) results.push(await rate(op, seconds))
  process.stdout.write(`${JSON.stringify({ runs: results })}\n`)
}

// An access token's claims and header, shaped as Tessera's (src/oauth/tokens/service.ts).
const claims = {
  iss: 'http://127.0.0.1:3000',
  sub: randomUUID(),
  aud: 'api',
  iat: 1_700_000_000,
  exp: 1_700_000_900,
  jti: 'kZ3bq0xN6WQm2oTq5yq1dA',
  client_id: 'bench-client-000000000',
  scope: 'read write',
  roles: ['user'],
  sid: randomUUID(),
}
const header = { alg: 'RS256', typ: 'at+jwt', kid: 'w4Zb6rX1mJq0sV8n3kT2yP5cL7dF9gH1jK3lM5nB6vC' }

switch (mode) {
  case 'sign': {
    const { privateKey } = (await webcrypto.subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair
    await timed(() => new SignJWT({ ...claims }).setProtectedHeader(header).sign(privateKey))
    break
  }
  case 'node-sign': {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    await timed(() => `${input}.${createSign('sha256').update(input).sign(privateKey, 'base64url')}`)
    break
  }
  case 'argon2': {
    await timed(() => argon2.hash('correct horse battery staple', ARGON2))
    break
  }
  case 'fastify': {
    if (!values.jwks) throw new Error('fastify needs --jwks <file>')
    const body = readFileSync(values.jwks)
    const app = Fastify({ logger: false })
    app.get('/.well-known/jwks.json', (_req, reply) => reply.type('application/json; charset=utf-8').send(body))
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`)
    process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
    break
  }
  default:
    process.stderr.write('usage: baselines.ts sign|node-sign|argon2|fastify [--seconds S --runs N --warmup S --concurrency C --jwks FILE]\n')
    process.exit(2)
}
