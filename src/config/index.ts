// Configuration: one TypeBox schema over the environment, validated and decoded once at start.
// Each variable's schema says its meaning, unit and default, and decodes the text to the value
// the code uses; `Config` is derived from it (ACCESS_TOKEN_TTL becomes `accessTokenTtl`, in
// seconds), so no field is declared twice. `.env.example` mirrors the schema (a test checks).
import { isAbsolute, resolve } from 'node:path'
import Type, { type StaticDecode } from 'typebox'
import Value from 'typebox/value'
import { OperatorError } from '../lib/errors.js'

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 }

/** `90`, `90s`, `15m`, `2h`, `7d` → seconds. */
function seconds(value: string): number {
  if (value.endsWith('ms')) return Number(value.slice(0, -2)) / 1000
  const unit = value.at(-1) ?? ''
  return unit in UNIT ? Number(value.slice(0, -1)) * UNIT[unit]! : Number(value)
}

const DURATION = '[0-9]+(?:ms|[smhd])?'
const duration = (description: string, def: string) =>
  Type.Decode(Type.String({ pattern: `^${DURATION}$`, default: def, description: `${description} Seconds, or a number with ms, s, m, h or d.` }), seconds)

/** `300/1m` → at most 300 requests in any minute, per client address; `0` turns the limit off. */
export interface RateLimit {
  max: number
  /** Seconds. */
  window: number
}
const rateLimit = (description: string, def: string) =>
  Type.Decode(
    Type.String({
      pattern: `^(?:0|[1-9][0-9]{0,6}/${DURATION})$`,
      default: def,
      description: `${description} N/duration (300/1m: 300 a minute, per client address); 0 turns it off.`,
    }),
    (v): RateLimit | null => {
      if (v === '0') return null
      const [max, window] = v.split('/') as [string, string]
      return { max: Number(max), window: seconds(window) }
    },
  )

/**
 * TRUST_PROXY: false (the socket's address is the client's), a hop count (1: one reverse
 * proxy in front), or the proxies' addresses and CIDR ranges. Never "every hop": then any
 * client could name its own address in X-Forwarded-For.
 */
const IP_OR_CIDR = '(?:[0-9]{1,3}(?:\\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)(?:/[0-9]{1,3})?'
const trustProxy = Type.Decode(
  Type.String({
    pattern: `^(?:false|[1-9]|${IP_OR_CIDR}(?:,${IP_OR_CIDR})*)$`,
    default: 'false',
    description: "Behind a reverse proxy: how many proxy hops to trust (1), or the proxies' addresses or CIDR ranges (10.0.0.0/8,192.0.2.7); false: none.",
  }),
  (v): false | number | string[] => (v === 'false' ? false : /^[0-9]$/.test(v) ? Number(v) : v.split(',')),
)
const count = (description: string, def: string) => Type.Decode(Type.String({ pattern: '^[0-9]+$', default: def, description }), Number)
const oneOf = <const T extends string[]>(values: readonly [...T], def: T[number], description: string) => Type.Enum(values, { default: def, description })
/** 32 bytes as 64 hex digits or as base64. */
const decodeKey = (value: string): Buffer => (/^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64'))

/** Every variable Tessera reads, with its meaning, unit and default. */
export const EnvSchema = Type.Object({
  NODE_ENV: oneOf(['development', 'production', 'test'], 'development', 'development, production or test.'),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Address to listen on (0.0.0.0 in a container).' }),
  PORT: Type.Decode(Type.String({ pattern: '^[0-9]{1,5}$', default: '3000', description: 'TCP port, 0 to 65535.' }), Number),
  ISSUER: Type.Optional(
    Type.Decode(Type.String({ pattern: '^https?://[^?#]+$', description: 'Issuer URL (`iss`), no query or fragment. Default http://localhost:PORT.' }), (v) =>
      v.replace(/\/+$/, ''),
    ),
  ),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://', description: 'postgres:// URL; unset: embedded PGlite in PGLITE_DIR.' })),
  PGLITE_DIR: Type.String({ minLength: 1, default: './data', description: 'Directory of the embedded database when DATABASE_URL is unset.' }),
  DEFAULT_AUDIENCE: Type.String({
    minLength: 1,
    default: 'api',
    description: "Access-token `aud` for clients registered without an audience. Never the issuer: that is the refresh token's audience.",
  }),
  KEY_ENCRYPTION_KEY: Type.Optional(
    Type.Decode(
      Type.String({ pattern: '^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$', description: '32 bytes, hex or base64, sealing the signing keys (AES-256-GCM).' }),
      decodeKey,
    ),
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
  PURGE_INTERVAL: duration(
    'How often the retention job runs (on one instance at a time): it deletes expired token denials, refresh families past their end plus RETENTION_GRACE, spent reset tokens and audit events older than AUDIT_RETENTION; 0 turns it off.',
    '1h',
  ),
  RETENTION_GRACE: duration('How long a refresh family is kept after its absolute end, for the audit trail and reuse detection.', '7d'),
  AUDIT_RETENTION: duration('How long audit events are kept.', '400d'),
  JWKS_MAX_AGE: duration('Cache-Control max-age of the JWKS.', '300'),
  BODY_LIMIT: count('Largest request body in bytes.', '16384'),
  REGISTRATION: oneOf(['open', 'closed'], 'open', 'open: anyone may POST /users; closed: only admins create users.'),
  PASSWORD_RESET_TTL: duration('How long a password-reset link is valid.', '1h'),
  SESSION_TTL: duration("How long a browser stays signed in to Tessera's own pages (the session cookie).", '7d'),
  BRAND_NAME: Type.String({
    minLength: 1,
    maxLength: 60,
    pattern: '^[^\\u0000-\\u001f]+$',
    default: 'Tessera',
    description: 'The product name on the hosted pages.',
  }),
  BRAND_COLOR: Type.String({ pattern: '^#[0-9a-fA-F]{6}$', default: '#3b5bdb', description: 'The accent colour of the hosted pages, #rrggbb.' }),
  SMTP_URL: Type.Optional(
    Type.String({
      pattern: '^smtps?://[^\\s]+$',
      description: 'smtp:// or smtps:// URL of the mail server for password-reset mail; unset: the link is logged instead (never in production).',
    }),
  ),
  MAIL_FROM: Type.String({
    minLength: 3,
    maxLength: 320,
    pattern: '^[^\\r\\n]+$',
    default: 'Tessera <no-reply@localhost>',
    description: 'The From of the mail Tessera sends: an address, or a name and <address>.',
  }),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'pino log level.'),
  TRUST_PROXY: trustProxy,
  CORS_ORIGINS: Type.Decode(
    Type.String({
      pattern: '^(?:https?://[^,/\\s]+(?:,https?://[^,/\\s]+)*)?$',
      default: '',
      description: 'Browser origins allowed to call the API (CORS), comma-separated (https://app.example.com); empty: none.',
    }),
    (v) => (v === '' ? [] : v.split(',')),
  ),
  REQUEST_TIMEOUT: duration('How long a client may take to send a whole request; then 408 and the connection closes.', '15s'),
  DATABASE_CONNECT_TIMEOUT: duration('How long to wait for a database connection before answering 503.', '1500ms'),
  DATABASE_STATEMENT_TIMEOUT: duration('The longest a database statement may run (Postgres).', '5s'),
  REDIS_URL: Type.Optional(
    Type.String({ pattern: '^rediss?://', description: 'redis:// URL: per-address rate limits shared by every instance; unset: counted in each process.' }),
  ),
  RATE_LIMIT_TOKEN: rateLimit('Requests to /token, /revoke and /introspect.', '300/1m'),
  RATE_LIMIT_SIGNUP: rateLimit('Sign-ups (POST /users).', '30/1m'),
  RATE_LIMIT_PASSWORD: rateLimit('Requests to /password/forgot and /password/reset, and the pages that post to them.', '10/1m'),
  RATE_LIMIT_SIGNIN: rateLimit('Form posts of the sign-in and sign-up pages.', '30/1m'),
  LOCKOUT_THRESHOLD: count('Failed password checks of one account, from any address, that lock it; 0 turns lockout off.', '10'),
  LOCKOUT_WINDOW: duration('The window those failures are counted in.', '15m'),
  LOCKOUT_DURATION: duration('How long a locked account stays locked.', '15m'),
  PASSWORD_HASH_CONCURRENCY: count('argon2 computations allowed at once; 0: the CPU cores but one (at least 1).', '0'),
  SHUTDOWN_TIMEOUT: duration('How long SIGTERM waits for in-flight requests.', '10s'),
  METRICS_PORT: Type.Decode(
    Type.String({
      pattern: '^[0-9]{1,5}$',
      default: '0',
      description: 'TCP port of the separate listener serving Prometheus GET /metrics (never on PORT); 0: no metrics listener.',
    }),
    Number,
  ),
  METRICS_HOST: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'Address the metrics listener binds to (0.0.0.0 for a scraper in another container).',
  }),
  METRICS_RECORDING: oneOf(
    ['on', 'off'],
    'on',
    'on: requests are counted and timed and the Node.js runtime is sampled for /metrics; off only to measure what that costs (npm run bench).',
  ),
})

/** ACCESS_TOKEN_TTL → accessTokenTtl. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}` : Lowercase<S>
const camelCase = (name: string): string => name.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

type Decoded = StaticDecode<typeof EnvSchema>

/** The decoded environment under camelCase names; durations in seconds, paths absolute, the issuer resolved. */
export type Config = { [K in keyof Decoded as CamelCase<K & string>]-?: Decoded[K] } & { issuer: string }

export class ConfigError extends OperatorError {
  override name = 'ConfigError'
}

/** Never echoed back in an error: the key, or a URL that may carry a password. */
const SECRET = new Set(['KEY_ENCRYPTION_KEY', 'DATABASE_URL', 'SMTP_URL', 'REDIS_URL'])

/** Reads, defaults, validates and decodes the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const picked: Record<string, string> = {}
  for (const name of Object.keys(EnvSchema.properties)) {
    const value = source[name]
    if (value !== undefined && value !== '') picked[name] = value
  }
  const withDefaults = Value.Default(EnvSchema, picked)
  const [first] = Value.Errors(EnvSchema, withDefaults)
  if (first) {
    const name = first.instancePath.replace(/^\//, '')
    const property = (EnvSchema.properties as Record<string, { description?: string }>)[name]
    const shown = SECRET.has(name) ? '' : `=${JSON.stringify(source[name])}`
    throw new ConfigError(`Invalid ${name}${shown}: ${property?.description ?? first.message}`)
  }
  const decoded = Value.Decode(EnvSchema, withDefaults) as Record<string, unknown>
  const config = Object.fromEntries(Object.entries(decoded).map(([name, value]) => [camelCase(name), value])) as Config
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p))
  config.pgliteDir = abs(config.pgliteDir)
  config.keyFile = abs(config.keyFile)
  config.issuer ??= `http://localhost:${config.port}`
  check(config, source)
  return config
}

/** The rules that tie one variable to another. */
function check(c: Config, source: NodeJS.ProcessEnv): void {
  if (c.port > 65535) throw new ConfigError(`Invalid PORT=${source.PORT}: TCP port, 0 to 65535.`)
  if (c.metricsPort > 65535) throw new ConfigError(`Invalid METRICS_PORT=${source.METRICS_PORT}: TCP port, 0 to 65535.`)
  if (c.metricsPort !== 0 && c.metricsPort === c.port)
    throw new ConfigError(`Invalid METRICS_PORT=${source.METRICS_PORT}: must differ from PORT, so that /metrics is never on the public port.`)
  if (c.keyPrepublish < c.jwksMaxAge) {
    throw new ConfigError(
      `Invalid KEY_PREPUBLISH=${source.KEY_PREPUBLISH}: must be at least JWKS_MAX_AGE (${c.jwksMaxAge}s), or caches would meet a key they have never seen.`,
    )
  }
  if (c.keyRotationInterval > 0 && c.keyRotationInterval < c.keyPrepublish) {
    throw new ConfigError(
      `Invalid KEY_ROTATION_INTERVAL=${source.KEY_ROTATION_INTERVAL}: must be 0 (off) or at least KEY_PREPUBLISH (${c.keyPrepublish}s), so each next key is cached before it signs.`,
    )
  }
  if (c.accessTokenTtl < 1) throw new ConfigError('Invalid ACCESS_TOKEN_TTL: must be at least 1 second.')
  if (c.retentionGrace < c.accessTokenTtl) {
    // The revocation feed lists a revoked family until its last access token expires: the family must still be there.
    throw new ConfigError(
      `Invalid RETENTION_GRACE=${source.RETENTION_GRACE}: must be at least ACCESS_TOKEN_TTL (${c.accessTokenTtl}s), or revoked sessions would leave the revocation feed while their access tokens still verify.`,
    )
  }
  if (c.refreshTokenTtl < 1 || c.refreshFamilyTtl < 1) throw new ConfigError('Invalid REFRESH_TOKEN_TTL or REFRESH_FAMILY_TTL: must be at least 1 second.')
  if (c.defaultAudience === c.issuer)
    throw new ConfigError('Invalid DEFAULT_AUDIENCE: must differ from the issuer, or resource servers would accept refresh tokens.')
  if (c.keyEncryptionKey && c.keyEncryptionKey.length !== 32) {
    throw new ConfigError('Invalid KEY_ENCRYPTION_KEY: must decode to exactly 32 bytes (64 hex digits or 44 base64 characters).')
  }
}
