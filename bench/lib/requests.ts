// Requests the orchestrator makes to Tessera itself: form bodies with client authentication, sign-ins, the refresh pool.
import { type Bench, POOL_TARGET } from './context.js'
import { log } from './log.js'
import type { Requests } from './measure.js'
import { type BenchClient, type BenchUser, PASSWORD } from './seed.js'

export const form = (params: Record<string, string>) => new URLSearchParams(params).toString()
export const formHeaders = (client: BenchClient) => ({ 'content-type': 'application/x-www-form-urlencoded', authorization: client.basic })

/** POSTs to `path` on the run's server, authenticated as the benchmark client; the refresh load adds each one's body (a token of the pool). */
export const clientPosts = (b: Bench, path: string): Omit<Requests, 'body'> => ({
  url: b.server.base,
  method: 'POST',
  path,
  headers: formHeaders(b.client),
})

const post = (b: Bench, path: string, body: string): Requests => ({ ...clientPosts(b, path), body })

const passwordForm = (user: BenchUser) => form({ grant_type: 'password', username: user.email, password: PASSWORD })

/** The load of each step that sends one kind of request to Tessera (introspect: an access token of the first pool user). */
export async function requestsOf(b: Bench, step: 'jwks' | 'client_credentials' | 'introspect' | 'password'): Promise<Requests> {
  switch (step) {
    case 'jwks':
      return { url: b.server.base, method: 'GET', path: '/.well-known/jwks.json' }
    case 'client_credentials':
      return post(b, '/token', form({ grant_type: 'client_credentials' }))
    case 'introspect':
      return post(b, '/introspect', form({ token: (await signIn(b, b.users[0]!)).access_token }))
    case 'password':
      return post(b, '/token', passwordForm(b.passwordUser))
  }
}

async function signIn(b: Bench, user: BenchUser): Promise<{ access_token: string; refresh_token: string }> {
  const res = await fetch(`${b.server.base}/token`, { method: 'POST', headers: formHeaders(b.client), body: passwordForm(user) })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${body}`)
  return JSON.parse(body) as { access_token: string; refresh_token: string }
}

/** Real families, made through the password grant before the timed window, 8 sign-ins at a time. */
export async function fillPool(b: Bench): Promise<void> {
  const before = b.pool.length
  while (b.pool.length < POOL_TARGET) {
    const batch = Math.min(8, POOL_TARGET - b.pool.length)
    const users = Array.from({ length: batch }, () => b.users[b.nextUser++ % b.users.length]!)
    const tokens = await Promise.all(users.map((u) => signIn(b, u)))
    b.pool.push(...tokens.map((t) => t.refresh_token))
  }
  if (b.pool.length > before) log(`  refresh pool: ${b.pool.length - before} families signed in through the password grant (${b.pool.length} ready)`)
}
