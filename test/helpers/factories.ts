// Test factories: clients, users and token requests through the real app.

import { createAccount } from '../../src/accounts/accounts.js'
import type { App } from '../../src/app.js'
import type { ClientRegistration } from '../../src/clients/registration.js'
import { registerClient } from '../../src/clients/registration.js'
import type { Role } from '../../src/stores/users.js'

export interface TestClient {
  id: string
  secret?: string
  basic: string
}

export async function makeClient(app: App, r: Partial<ClientRegistration> = {}): Promise<TestClient> {
  const { client, secret } = await registerClient(
    app.stores.clients,
    {
      name: 'test client',
      grantTypes: ['password', 'refresh_token', 'client_credentials'],
      scopes: ['openid', 'profile', 'read', 'write'],
      ...r,
    },
    { issuer: app.config.issuer },
  )
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(secret ?? '')}`).toString('base64')}`
  return secret ? { id: client.id, secret, basic } : { id: client.id, basic }
}

let n = 0
export async function makeUser(app: App, opts: { email?: string; password?: string; role?: Role } = {}) {
  const email = opts.email ?? `user${++n}-${Date.now()}@example.com`
  const password = opts.password ?? 'correct horse battery'
  const user = await createAccount(app.stores.users, { email, password, role: opts.role ?? 'user' })
  return { ...user, password }
}

/** POST /token as a form, authenticated with Basic unless the client is public. */
export function token(app: App, client: TestClient, params: Record<string, string>, headers: Record<string, string> = {}) {
  const auth: Record<string, string> = client.secret ? { authorization: client.basic } : {}
  const body = new URLSearchParams(client.secret ? params : { client_id: client.id, ...params }).toString()
  return app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth, ...headers }, body })
}

export function post(app: App, url: string, client: TestClient, params: Record<string, string>, headers: Record<string, string> = {}) {
  const auth: Record<string, string> = client.secret ? { authorization: client.basic } : {}
  const body = new URLSearchParams(client.secret ? params : { client_id: client.id, ...params }).toString()
  return app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth, ...headers }, body })
}

/** Signs a user in with the password grant; returns the parsed token response. */
export async function signIn(app: App, client: TestClient, user: { email: string; password: string }, extra: Record<string, string> = {}) {
  const res = await token(app, client, { grant_type: 'password', username: user.email, password: user.password, ...extra })
  if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`)
  return res.json() as { access_token: string; refresh_token?: string; expires_in: number; scope: string; token_type: string }
}

export const decode = (jwt: string) => {
  const [h, p] = jwt.split('.')
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) }
}

/** The admin API's own client: audience `<ISSUER>/admin`, scope `admin` (docs/endpoints.md#admin-api). */
export function makeAdminConsole(app: App): Promise<TestClient> {
  return makeClient(app, { name: 'console', grantTypes: ['password', 'refresh_token'], scopes: ['admin'], audience: `${app.config.issuer}/admin` })
}

/** An access token for the admin API, for `admin` (who must be an admin), through `console`. */
export async function adminToken(app: App, console: TestClient, admin: { email: string; password: string }): Promise<string> {
  return (await signIn(app, console, admin, { scope: 'admin' })).access_token
}

/** Sets a sign-in name's failed-password count and lock (stores/lockouts.ts), as failures would have. */
export async function setLockout(
  db: { query(sql: string, params?: unknown[]): Promise<unknown[]> },
  email: string,
  failures: number,
  lockedUntil: Date | null,
  windowStart = new Date(),
) {
  await db.query(
    `INSERT INTO login_failures (key, count, window_start, locked_until) VALUES (encode(sha256(convert_to($1, 'UTF8')), 'hex'), $2, $3, $4)
     ON CONFLICT (key) DO UPDATE SET count = $2, window_start = $3, locked_until = $4`,
    [email, failures, windowStart, lockedUntil],
  )
}

/** A sign-in name's row in login_failures, or undefined. */
export async function lockoutRow(db: { query<T>(sql: string, params?: unknown[]): Promise<T[]> }, email: string) {
  const [row] = await db.query<{ count: number; locked_until: Date | null }>(
    `SELECT count, locked_until FROM login_failures WHERE key = encode(sha256(convert_to($1, 'UTF8')), 'hex')`,
    [email],
  )
  return row
}
