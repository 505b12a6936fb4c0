// Configuration: one TypeBox schema over the environment, validated once at start.
import { isAbsolute, resolve } from 'node:path'
import Type, { type Static } from 'typebox'
import Value from 'typebox/value'

const duration = (description: string, def: string) =>
  Type.String({ pattern: '^[0-9]+[smhd]?$', default: def, description: `${description} Seconds, or a number with s, m, h or d.` })

/** Every variable Tessera reads, with its meaning, unit and default. `.env.example` mirrors it. */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
    description: 'development, production or test.',
  }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address to listen on (0.0.0.0 in a container).' }),
  PORT: Type.String({ pattern: '^[0-9]{1,5}$', default: '3000', description: 'TCP port, 0 to 65535.' }),
  ISSUER: Type.Optional(Type.String({ pattern: '^https?://[^?#]+$', description: 'Issuer URL (`iss`), no query or fragment. Default http://localhost:PORT.' })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'postgres:// URL; unset: embedded PGlite in PGLITE_DIR.' })),
  PGLITE_DIR: Type.String({ minLength: 1, default: './data', description: 'Directory of the embedded database when DATABASE_URL is unset.' }),
  DEFAULT_AUDIENCE: Type.String({
    minLength: 1,
    default: 'api',
    description: "Access-token `aud` for clients registered without an audience. Never the issuer: that is the refresh token's audience.",
  }),
  KEY_ENCRYPTION_KEY: Type.Optional(
    Type.String({ pattern: '^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$', description: '32 bytes, hex or base64, sealing the signing keys (AES-256-GCM).' }),
  ),
  KEY_FILE: Type.String({
    minLength: 1,
    default: './keys/encryption.key',
    description: 'Where the development key-encryption key is generated when KEY_ENCRYPTION_KEY is unset.',
  }),
  ACCESS_TOKEN_TTL: duration('Access-token lifetime.', '15m'),
  REFRESH_TOKEN_TTL: duration('Refresh-token idle lifetime; each rotation restarts it.', '7d'),
  REFRESH_FAMILY_TTL: duration('Absolute lifetime of a refresh family (a sign-in).', '30d'),
  REFRESH_REUSE_LEEWAY: duration('Window in which the previous refresh token may be retried.', '0'),
  KEY_PREPUBLISH: duration('How long a key is published before it may sign; at least JWKS_MAX_AGE.', '15m'),
  KEY_ROTATION_INTERVAL: duration('Scheduled rotation interval; 0 turns it off.', '0'),
  KEY_RING_POLL: duration('How often each instance checks the key ring for changes made elsewhere and moves keys on; 0 turns it off.', '2s'),
  PURGE_INTERVAL: duration('How often each instance deletes the denials of revoked access tokens that have expired anyway; 0 turns it off.', '1h'),
  JWKS_MAX_AGE: duration('Cache-Control max-age of the JWKS.', '300'),
  BODY_LIMIT: Type.String({ pattern: '^[0-9]+$', default: '16384', description: 'Largest request body in bytes.' }),
  REGISTRATION: Type.Union([Type.Literal('open'), Type.Literal('closed')], {
    default: 'open',
    description: 'open: anyone may POST /users; closed: only admins create users.',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'pino log level.' },
  ),
  TRUST_PROXY: Type.Union([Type.Literal('true'), Type.Literal('false')], { default: 'false', description: 'Trust X-Forwarded-* (behind a reverse proxy).' }),
  PASSWORD_HASH_CONCURRENCY: Type.String({
    pattern: '^[0-9]+$',
    default: '0',
    description: 'argon2 computations allowed at once; 0: the CPU cores but one (at least 1).',
  }),
  SHUTDOWN_TIMEOUT: duration('How long SIGTERM waits for in-flight requests.', '10s'),
})
export type Env = Static<typeof EnvSchema>

export interface Config {
  env: Env['NODE_ENV']
  host: string
  port: number
  issuer: string
  databaseUrl: string | undefined
  pgliteDir: string
  defaultAudience: string
  keyEncryptionKey: Buffer | undefined
  keyFile: string
  /** All durations in seconds. */
  accessTokenTtl: number
  refreshTokenTtl: number
  refreshFamilyTtl: number
  refreshReuseLeeway: number
  keyPrepublish: number
  keyRotationInterval: number
  keyRingPoll: number
  purgeInterval: number
  jwksMaxAge: number
  bodyLimit: number
  registration: Env['REGISTRATION']
  logLevel: string
  trustProxy: boolean
  shutdownTimeout: number
  /** 0: automatic. */
  passwordHashConcurrency: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const SECRET = new Set(['KEY_ENCRYPTION_KEY', 'DATABASE_URL'])

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }
export function seconds(value: string): number {
  const unit = value.at(-1) ?? ''
  return unit in UNIT ? Number(value.slice(0, -1)) * UNIT[unit]! : Number(value)
}

function decodeKey(value: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64')
}

/** Reads, defaults and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const picked: Record<string, string> = {}
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = source[name]
    if (value !== undefined && value !== '') picked[name] = value
  }
  const env = Value.Default(EnvSchema, picked) as Record<string, unknown>
  const [first] = Value.Errors(EnvSchema, env)
  if (first) {
    const name = first.instancePath.replace(/^\//, '')
    const property = (EnvSchema.properties as Record<string, { description?: string }>)[name]
    // Never echo a secret back (the key, or a URL that may carry a password).
    const shown = SECRET.has(name) ? '' : `=${JSON.stringify(source[name])}`
    throw new ConfigError(`Invalid ${name}${shown}: ${property?.description ?? first.message}`)
  }
  const e = env as Env
  const port = Number(e.PORT)
  if (port > 65535) throw new ConfigError(`Invalid PORT=${e.PORT}: TCP port, 0 to 65535.`)
  const issuer = (e.ISSUER ?? `http://localhost:${port}`).replace(/\/+$/, '')
  const jwksMaxAge = seconds(e.JWKS_MAX_AGE)
  const keyPrepublish = seconds(e.KEY_PREPUBLISH)
  if (keyPrepublish < jwksMaxAge) {
    throw new ConfigError(
      `Invalid KEY_PREPUBLISH=${e.KEY_PREPUBLISH}: must be at least JWKS_MAX_AGE (${jwksMaxAge}s), or caches would meet a key they have never seen.`,
    )
  }
  const keyRotationInterval = seconds(e.KEY_ROTATION_INTERVAL)
  if (keyRotationInterval > 0 && keyRotationInterval < keyPrepublish) {
    throw new ConfigError(
      `Invalid KEY_ROTATION_INTERVAL=${e.KEY_ROTATION_INTERVAL}: must be 0 (off) or at least KEY_PREPUBLISH (${keyPrepublish}s), so each next key is cached before it signs.`,
    )
  }
  const accessTokenTtl = seconds(e.ACCESS_TOKEN_TTL)
  if (accessTokenTtl < 1) throw new ConfigError('Invalid ACCESS_TOKEN_TTL: must be at least 1 second.')
  const refreshTokenTtl = seconds(e.REFRESH_TOKEN_TTL)
  const refreshFamilyTtl = seconds(e.REFRESH_FAMILY_TTL)
  if (refreshTokenTtl < 1 || refreshFamilyTtl < 1) throw new ConfigError('Invalid REFRESH_TOKEN_TTL or REFRESH_FAMILY_TTL: must be at least 1 second.')
  if (e.DEFAULT_AUDIENCE === issuer)
    throw new ConfigError('Invalid DEFAULT_AUDIENCE: must differ from the issuer, or resource servers would accept refresh tokens.')
  const keyEncryptionKey = e.KEY_ENCRYPTION_KEY === undefined ? undefined : decodeKey(e.KEY_ENCRYPTION_KEY)
  if (keyEncryptionKey && keyEncryptionKey.length !== 32)
    throw new ConfigError('Invalid KEY_ENCRYPTION_KEY: must decode to exactly 32 bytes (64 hex digits or 44 base64 characters).')
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p))
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port,
    issuer,
    databaseUrl: e.DATABASE_URL,
    pgliteDir: abs(e.PGLITE_DIR),
    defaultAudience: e.DEFAULT_AUDIENCE,
    keyEncryptionKey,
    keyFile: abs(e.KEY_FILE),
    accessTokenTtl,
    refreshTokenTtl,
    refreshFamilyTtl,
    refreshReuseLeeway: seconds(e.REFRESH_REUSE_LEEWAY),
    keyPrepublish,
    keyRotationInterval,
    keyRingPoll: seconds(e.KEY_RING_POLL),
    purgeInterval: seconds(e.PURGE_INTERVAL),
    jwksMaxAge,
    bodyLimit: Number(e.BODY_LIMIT),
    registration: e.REGISTRATION,
    logLevel: e.LOG_LEVEL,
    trustProxy: e.TRUST_PROXY === 'true',
    shutdownTimeout: seconds(e.SHUTDOWN_TIMEOUT),
    passwordHashConcurrency: Number(e.PASSWORD_HASH_CONCURRENCY),
  }
}
