// HTTP against a real Tessera process (test/helpers/process.ts's startServer), as its clients
// see it: one request, its status, headers, parsed body and how long it took; and the accounts a
// test needs, made with the real CLI (in this process, test/helpers/cli.ts) on the server's
// database.
import { tessera, type Where } from './cli.js'

export interface Answer {
  status: number
  headers: Headers
  /** The parsed JSON body, or the text when it is not JSON (an empty body: ''). */
  body: any
  /** Milliseconds from sending to the end of the body. */
  ms: number
}

export interface Call {
  method?: string
  /** An application/x-www-form-urlencoded body. */
  form?: Record<string, string>
  /** An application/json body. */
  json?: unknown
  /** The Authorization header (Basic or Bearer). */
  authorization?: string
  headers?: Record<string, string>
  /** Aborts after this (default 10 s): a request that hangs fails the test instead of the run. */
  timeoutMs?: number
}

export async function call(base: string, path: string, c: Call = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...c.headers }
  if (c.authorization) headers.authorization = c.authorization
  let body: string | undefined
  if (c.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded'
    body = new URLSearchParams(c.form).toString()
  } else if (c.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(c.json)
  }
  const began = performance.now()
  const res = await fetch(`${base}${path}`, {
    method: c.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(body === undefined ? {} : { body }),
    signal: AbortSignal.timeout(c.timeoutMs ?? 10_000),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text === '' ? '' : JSON.parse(text)
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed, ms: performance.now() - began }
}

/** The status and body, for comparing answers in one assertion. */
export const shape = (a: Answer) => ({ status: a.status, body: a.body })

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

/** A JWT's payload (not verified: the test reads what it was given). */
export const claims = (jwt: string): Record<string, any> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString())

export interface RemoteClient {
  id: string
  secret: string
  authorization: string
}

export interface RemoteUser {
  id: string
  email: string
  password: string
}

async function cli(where: Where, args: string[]): Promise<any> {
  const r = await tessera(where, ...args, '--json')
  if (r.code !== 0) throw new Error(`tessera ${args.slice(0, 2).join(' ')} failed (${r.code}): ${r.stderr}`)
  return JSON.parse(r.stdout)
}

/** `tessera clients create` (confidential, password + refresh_token + client_credentials unless given). */
export async function createClient(where: Where, opts: { name?: string; grants?: string[]; scopes?: string[]; audience?: string } = {}): Promise<RemoteClient> {
  const grants = opts.grants ?? ['password', 'refresh_token', 'client_credentials']
  const scopes = opts.scopes ?? ['read', 'write']
  const out = await cli(where, [
    'clients',
    'create',
    '--name',
    opts.name ?? 'resilience client',
    ...grants.flatMap((g) => ['--grant', g]),
    ...scopes.flatMap((s) => ['--scope', s]),
    ...(opts.audience ? ['--audience', opts.audience] : []),
  ])
  return { id: out.client_id, secret: out.client_secret, authorization: basic(out.client_id, out.client_secret) }
}

let n = 0
/** `tessera users create`. */
export async function createUser(where: Where, opts: { email?: string; password?: string; role?: 'user' | 'admin' } = {}): Promise<RemoteUser> {
  const email = opts.email ?? `r${++n}-${process.pid}-${Date.now()}@example.com`
  const password = opts.password ?? 'correct horse battery staple'
  const out = await cli(where, ['users', 'create', '--email', email, `--password=${password}`, ...(opts.role ? ['--role', opts.role] : [])])
  return { id: out.id, email, password }
}

/** `tessera migrate`: the schema a CLI command needs, before any server has started on the database. */
export async function migrateDatabase(where: Where): Promise<void> {
  await cli(where, ['migrate'])
}
