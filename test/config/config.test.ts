// Configuration from the environment: defaults, and one clear line naming a bad variable.
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config/index.js'

t.test('zero configuration gives the documented defaults', async (t) => {
  const c = loadConfig({}, '/srv/app')
  t.match(c, {
    nodeEnv: 'development',
    port: 3000,
    issuer: 'http://localhost:3000',
    databaseUrl: undefined,
    pgliteDir: '/srv/app/data',
    keyFile: '/srv/app/keys/encryption.key',
    accessTokenTtl: 900,
    refreshTokenTtl: 7 * 86400,
    refreshFamilyTtl: 30 * 86400,
    refreshReuseLeeway: 0,
    keyPrepublish: 900,
    jwksMaxAge: 300,
    bodyLimit: 16384,
    registration: 'open',
  })
})

t.test('durations take seconds or a unit; the issuer loses a trailing slash', async (t) => {
  const c = loadConfig({ ACCESS_TOKEN_TTL: '90', REFRESH_TOKEN_TTL: '2h', ISSUER: 'https://id.example.com/', PORT: '8080' })
  t.equal(c.accessTokenTtl, 90)
  t.equal(c.refreshTokenTtl, 7200)
  t.equal(c.issuer, 'https://id.example.com')
  t.equal(c.port, 8080)
})

const bad: [Record<string, string>, RegExp][] = [
  [{ PORT: 'eighty' }, /^Invalid PORT="eighty"/],
  [{ PORT: '70000' }, /^Invalid PORT=70000/],
  [{ LOG_LEVEL: 'loud' }, /^Invalid LOG_LEVEL="loud"/],
  [{ ISSUER: 'id.example.com' }, /^Invalid ISSUER=/],
  [{ ISSUER: 'https://id.example.com/?x=1' }, /^Invalid ISSUER=/],
  [{ DATABASE_URL: 'mysql://x' }, /^Invalid DATABASE_URL:/],
  [{ ACCESS_TOKEN_TTL: '15 minutes' }, /^Invalid ACCESS_TOKEN_TTL=/],
  [{ REGISTRATION: 'maybe' }, /^Invalid REGISTRATION=/],
  [{ KEY_PREPUBLISH: '60' }, /^Invalid KEY_PREPUBLISH=60: must be at least JWKS_MAX_AGE/],
  [{ KEY_ENCRYPTION_KEY: 'tooshort' }, /^Invalid KEY_ENCRYPTION_KEY:/],
  [{ RETENTION_GRACE: '60', ACCESS_TOKEN_TTL: '15m' }, /^Invalid RETENTION_GRACE=60: must be at least ACCESS_TOKEN_TTL \(900s\)/],
]
for (const [env, message] of bad) {
  t.test(`refuses ${JSON.stringify(env)}`, async (t) => {
    t.throws(() => loadConfig(env), ConfigError)
    t.throws(() => loadConfig(env), { message })
  })
}

t.test('a bad secret is named, never echoed', async (t) => {
  const secret = 'zz'.repeat(32)
  try {
    loadConfig({ KEY_ENCRYPTION_KEY: secret })
    t.fail('should throw')
  } catch (err) {
    t.notMatch((err as Error).message, secret)
  }
  try {
    loadConfig({ DATABASE_URL: 'mysql://user:hunter2@db/x' })
    t.fail('should throw')
  } catch (err) {
    t.notMatch((err as Error).message, 'hunter2')
  }
})

t.test('KEY_ENCRYPTION_KEY in hex or base64', async (t) => {
  const key = Buffer.alloc(32, 7)
  t.same(loadConfig({ KEY_ENCRYPTION_KEY: key.toString('hex') }).keyEncryptionKey, key)
  t.same(loadConfig({ KEY_ENCRYPTION_KEY: key.toString('base64') }).keyEncryptionKey, key)
})
