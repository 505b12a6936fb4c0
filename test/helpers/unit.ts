// Shared fixtures of the unit tier (test/**/*.unit.test.ts): no HTTP, no database. RSA keys made
// here, a key ring shaped like src/keys/keyring.ts, and in-memory stores that implement only the
// methods the units take, typed with the code's own Pick<…> types so that they cannot drift. The
// family store mirrors the SQL of src/stores/families.ts (the conditional rotation, the cap of a
// token's exp at its family's end), written out again here rather than borrowed from src.
import { generateKeyPair, type KeyObject, sign } from 'node:crypto'
import { promisify } from 'node:util'
import type { Test } from 'tap'
import type { PasswordCheckDeps } from '../../src/accounts/password-check.js'
import type { AuditEvent, AuditTrail, RequestMeta } from '../../src/audit/trail.js'
import type { Config } from '../../src/config/index.js'
import type { KeyRing, SigningKey, VerificationKey } from '../../src/keys/keyring.js'
import { createMetrics } from '../../src/metrics/registry.js'
import { OAuthError } from '../../src/oauth/errors.js'
import type { PasswordGrantDeps } from '../../src/oauth/grants/password.js'
import type { RefreshTokenGrantDeps } from '../../src/oauth/grants/refresh_token.js'
import type { TokenServiceDeps } from '../../src/oauth/tokens/service.js'
import type { Client } from '../../src/stores/clients.js'
import type { Family, SignableFamily } from '../../src/stores/families.js'
import type { KeyState } from '../../src/stores/keys.js'
import type { LockoutStore } from '../../src/stores/lockouts.js'
import type { User } from '../../src/stores/users.js'
import type { FrozenClock } from './clock.js'

export const ISSUER = 'https://tessera.test'
export const meta: RequestMeta = { ip: '203.0.113.7', userAgent: 'unit-test/1.0' }

export type UnitConfig = Pick<Config, 'issuer' | 'defaultAudience' | 'accessTokenTtl' | 'refreshTokenTtl' | 'refreshFamilyTtl' | 'refreshReuseLeeway'>

/** The settings the token service and the grants read; short lifetimes, leeway off. */
export const unitConfig = (over: Partial<UnitConfig> = {}): UnitConfig => ({
  issuer: ISSUER,
  defaultAudience: 'api',
  accessTokenTtl: 900,
  refreshTokenTtl: 3600,
  refreshFamilyTtl: 3 * 3600,
  refreshReuseLeeway: 0,
  ...over,
})

export function makeClient(over: Partial<Client> = {}): Client {
  return {
    id: 'web',
    name: 'unit client',
    secretHash: null,
    public: false,
    cookieDelivery: false,
    grantTypes: ['password', 'refresh_token', 'client_credentials'],
    scopes: ['read', 'write'],
    audience: null,
    redirectUris: [],
    postLogoutRedirectUris: [],
    firstParty: false,
    reuseLeeway: null,
    createdAt: new Date(0),
    ...over,
  }
}

// ---- keys ------------------------------------------------------------------------------------

export interface TestKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
}

let keyCount = 0
/** Several key pairs at once, generated side by side on libuv's pool (RSA-2048 takes a while on a small machine). */
export async function rsaKeys(n: number): Promise<TestKey[]> {
  const make = promisify(generateKeyPair)
  const pairs = await Promise.all(Array.from({ length: n }, () => make('rsa', { modulusLength: 2048 })))
  return pairs.map(({ publicKey, privateKey }) => ({ kid: `unit-kid-${++keyCount}`, privateKey, publicKey }))
}

/** The same key material under another kid (a ring holds one state per kid). */
export const underKid = (key: TestKey, kid: string): TestKey => ({ ...key, kid })

export type UnitKeys = Pick<KeyRing, 'signer' | 'signerFor' | 'verificationKey'>

/** The KeyRing's three lookups over keys held in memory; states and membership can change under a unit. */
export class MemoryKeyRing implements UnitKeys {
  readonly #keys = new Map<string, { key: TestKey; state: KeyState }>()
  /** Every kid signerFor was asked for. */
  readonly signerForCalls: string[] = []

  constructor(...keys: [TestKey, KeyState][]) {
    for (const [key, state] of keys) this.add(key, state)
  }

  add(key: TestKey, state: KeyState): this {
    this.#keys.set(key.kid, { key, state })
    return this
  }

  setState(kid: string, state: KeyState): void {
    const k = this.#keys.get(kid)
    if (!k) throw new Error(`no key ${kid}`)
    k.state = state
  }

  /** Makes `kid` the only active key (the previous active one becomes retiring). */
  activate(kid: string): void {
    for (const k of this.#keys.values()) if (k.state === 'active') k.state = 'retiring'
    this.setState(kid, 'active')
  }

  /** Takes a key out of the ring altogether (an emergency rotation). */
  remove(kid: string): void {
    this.#keys.delete(kid)
  }

  get signer(): SigningKey {
    for (const { key, state } of this.#keys.values()) if (state === 'active') return { kid: key.kid, key: key.privateKey }
    throw new Error('no active signing key loaded')
  }

  async signerFor(kid: string): Promise<SigningKey | undefined> {
    this.signerForCalls.push(kid)
    const k = this.#keys.get(kid)
    return k && { kid, key: k.key.privateKey }
  }

  verificationKey(kid: string): VerificationKey | undefined {
    const k = this.#keys.get(kid)
    return k && { kid, state: k.state, key: k.key.publicKey }
  }
}

// ---- JWTs ------------------------------------------------------------------------------------

export const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** A compact RS256 JWS over any header and payload, for the tokens Tessera would never make. */
export function forgeJwt(header: unknown, payload: unknown, key: KeyObject): string {
  const input = `${b64url(header)}.${b64url(payload)}`
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.')
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) }
}

// ---- stores ----------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Exactly the user-store methods the grants declare they take. */
export type UnitUsers = PasswordGrantDeps['users'] & RefreshTokenGrantDeps['users']

export interface MemoryUsers extends UnitUsers {
  rows: Map<string, User>
  /** The lockout state findForSignIn reads with the account, when a test gives one. */
  lockouts?: MemoryLockouts
  add(u: Pick<User, 'id' | 'email' | 'passwordHash'> & Partial<User>): User
  lookups: string[]
  rehashed: { id: string; passwordHash: string }[]
}

export function memoryUsers(): MemoryUsers {
  const rows = new Map<string, User>()
  const store: MemoryUsers = {
    rows,
    lookups: [],
    rehashed: [],
    add(u) {
      const user: User = { name: null, role: 'user', disabledAt: null, createdAt: new Date(0), ...u }
      rows.set(user.id, user)
      return user
    },
    async findForSignIn(email, key, now) {
      store.lookups.push(email)
      const user = [...rows.values()].find((u) => u.email === email)
      const lock = store.lockouts?.rows.get(key)
      return {
        user: user ? { ...user } : null,
        failures: lock?.failures ?? 0,
        lockedUntil: lock?.lockedUntil && lock.lockedUntil > now ? lock.lockedUntil : null,
      }
    },
    async findById(id) {
      if (!UUID.test(id)) return null
      const user = rows.get(id)
      return user ? { ...user } : null
    },
    async setPasswordHash(id, passwordHash) {
      store.rehashed.push({ id, passwordHash })
      const user = rows.get(id)
      if (user) user.passwordHash = passwordHash
    },
  }
  return store
}

/** The lockout store the password check takes, in memory, with the same counting rule. */
export interface MemoryLockouts extends Pick<LockoutStore, 'fail' | 'clear' | 'state'> {
  rows: Map<string, { failures: number; windowStart: Date; lockedUntil: Date | null }>
}

export function memoryLockouts(): MemoryLockouts {
  const rows: MemoryLockouts['rows'] = new Map()
  return {
    rows,
    async fail(key, now, p) {
      const row = rows.get(key)
      const fresh = !row || row.windowStart.getTime() <= now.getTime() - p.window * 1000 || (row.lockedUntil !== null && row.lockedUntil <= now)
      const failures = fresh ? 1 : row.failures + 1
      const until = new Date(now.getTime() + p.duration * 1000)
      const lockedUntil = failures >= p.threshold ? until : row?.lockedUntil && row.lockedUntil > now ? row.lockedUntil : null
      rows.set(key, { failures, windowStart: fresh ? now : row.windowStart, lockedUntil })
      return { failures, lockedUntil, lockedNow: lockedUntil === until }
    },
    async clear(key) {
      rows.delete(key)
    },
    async state(key) {
      const row = rows.get(key)
      return { failures: row?.failures ?? 0, lockedUntil: row?.lockedUntil ?? null }
    },
  }
}

/** A password check with lockout off (as the grant tests need), or on, over memory. */
export function passwordCheck(clock: FrozenClock, audit: AuditTrail, lockouts: MemoryLockouts = memoryLockouts(), threshold = 0): PasswordCheckDeps {
  return {
    config: { lockoutThreshold: threshold, lockoutWindow: 900, lockoutDuration: 900 },
    lockouts,
    audit,
    metrics: createMetrics(),
    clock,
  }
}

/** Exactly the family-store methods the token service and the grants declare they take. */
export type UnitFamilies = TokenServiceDeps['families'] & PasswordGrantDeps['families'] & RefreshTokenGrantDeps['families']

export interface MemoryFamilies extends UnitFamilies {
  rows: Map<string, Family>
}

const signable = (f: Family): SignableFamily => ({
  id: f.id,
  userId: f.userId,
  clientId: f.clientId,
  scope: f.scope,
  currentJti: f.currentJti,
  currentKid: f.currentKid,
  currentIat: f.currentIat,
  currentExp: f.currentExp,
})

/** refresh_families in memory; `users` stands in for the join rotate makes on users. */
export function memoryFamilies(users: Pick<MemoryUsers, 'rows'>): MemoryFamilies {
  const rows = new Map<string, Family>()
  // The SQL's liveness and cap, written out again (not src's isLive: the fake must not share its bugs).
  const live = (f: Family, now: Date) => f.revokedAt === null && f.expiresAt > now && f.idleExpiresAt > now
  const capped = (exp: number, end: Date) => Math.min(exp, Math.floor(end.getTime() / 1000))
  return {
    rows,
    async start(f) {
      const exp = capped(f.token.exp, f.expiresAt)
      const row: Family = {
        id: f.id,
        userId: f.userId,
        clientId: f.clientId,
        scope: f.scope,
        currentJti: f.token.jti,
        previousJti: null,
        currentKid: f.token.kid,
        currentIat: f.token.iat,
        currentExp: exp,
        generation: 0,
        rotatedAt: null,
        expiresAt: f.expiresAt,
        idleExpiresAt: new Date(exp * 1000),
        revokedAt: null,
        revokedReason: null,
        userAgent: f.userAgent,
        sessionId: f.sessionId ?? null,
        authTime: f.authTime ?? null,
        ip: f.ip,
        createdAt: f.now,
        lastUsedAt: f.now,
      }
      rows.set(row.id, row)
      return signable(row)
    },
    async findById(id) {
      if (!UUID.test(id)) return null
      const f = rows.get(id)
      return f ? { ...f } : null
    },
    async rotate({ id, presentedJti, next, now, withinScope }) {
      const f = rows.get(id)
      if (!f || f.currentJti !== presentedJti || !live(f, now)) return null
      const scopes = f.scope.split(' ')
      if (!(withinScope ?? []).every((s) => scopes.includes(s))) return null
      const user = users.rows.get(f.userId)
      if (!user || user.disabledAt !== null) return null
      const exp = capped(next.exp, f.expiresAt)
      const row: Family = {
        ...f,
        previousJti: f.currentJti,
        currentJti: next.jti,
        currentKid: next.kid,
        currentIat: next.iat,
        currentExp: exp,
        generation: f.generation + 1,
        rotatedAt: now,
        lastUsedAt: now,
        idleExpiresAt: new Date(exp * 1000),
      }
      rows.set(id, row)
      return { family: signable(row), role: user.role }
    },
    async revoke(id, reason, now) {
      const f = rows.get(id)
      if (!f || f.revokedAt !== null) return false
      rows.set(id, { ...f, revokedAt: now, revokedReason: reason })
      return true
    },
    async revokeAllOfUser(userId, reason, now, exceptId) {
      const revoked: string[] = []
      for (const f of rows.values()) {
        if (f.userId !== userId || f.revokedAt !== null || f.id === exceptId) continue
        rows.set(f.id, { ...f, revokedAt: now, revokedReason: reason })
        revoked.push(f.id)
      }
      return revoked
    },
  }
}

export function auditLog(): AuditTrail & { events: AuditEvent[] } {
  const events: AuditEvent[] = []
  return {
    events,
    async record(event) {
      events.push(event)
    },
    async familiesRevoked(sids, reason, who) {
      for (const sid of sids) events.push({ type: 'family.revoked', ...who, details: { sid, reason } })
    },
  }
}

// ---- assertions ------------------------------------------------------------------------------

export interface WantedError {
  error: string
  description?: string
  status?: number
}

/**
 * Asserts that `work` fails with this OAuthError (exact code, and exact description and status
 * when given), and returns the error for further checks; fails the test if it succeeds.
 */
export async function rejectsOAuth(t: Test, work: Promise<unknown> | (() => unknown), want: WantedError, msg = want.error): Promise<OAuthError | undefined> {
  let result: unknown
  try {
    result = await (typeof work === 'function' ? work() : work)
  } catch (err) {
    if (!(err instanceof OAuthError)) {
      t.fail(`${msg}: expected an OAuthError, got ${String(err)}`)
      return undefined
    }
    t.equal(err.error, want.error, `${msg}: error`)
    if (want.description !== undefined) t.equal(err.description, want.description, `${msg}: description`)
    if (want.status !== undefined) t.equal(err.statusCode, want.status, `${msg}: status`)
    return err
  }
  t.fail(`${msg}: expected ${want.error}, but it succeeded`, { found: result })
  return undefined
}
