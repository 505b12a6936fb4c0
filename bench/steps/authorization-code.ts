// The authorization_code step: POST /token exchanging a code for `openid email profile`, three
// RS256 signatures a request (access, refresh and ID token), bracketed by the jose sign baseline.
// Codes are single-use, so each request spends one of a batch written with SQL just before the
// load, as /authorize would have stored them (SHA-256 of the code, bound to the client, redirect
// URI, PKCE challenge, nonce, scope, user, browser session and auth time).
import { createHash, randomBytes } from 'node:crypto'
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
import { randomSecret, sha256 } from '../../src/lib/secrets.js'
import { assert, checkUserTokens } from '../lib/checks.js'
import { type Bench, CONNECTIONS } from '../lib/context.js'
import { log } from '../lib/log.js'
import { aggregate, announce, cpuMeter, logRuns, settle, shaped } from '../lib/measure.js'
import { form } from '../lib/requests.js'
import type { BenchClient } from '../lib/seed.js'
import { fmt } from '../lib/stats.js'
import { signBaseline } from './baselines.js'

const REDIRECT_URI = 'https://bench.example/callback'
const SCOPE = 'openid email profile'
const NONCE = 'bench-nonce'
/**
 * More codes a second than the exchange can reach on one core (it signs three times; the jose
 * sign baseline is about 3,000 a second there): the batch outlasts the load, and if it did not,
 * the requests past its end would show as non-2xx ("exhausted" in the note).
 */
const CODE_RATE_BOUND = 1500
/** The load's warm-up may last up to a minute (bench/load.ts): codes are valid for that and the load. */
const WARMUP_MAX = 60

/** A confidential client for the code flow: first-party (no consent), Basic auth like the other loads. */
async function seedCodeClient(b: Bench): Promise<BenchClient> {
  const id = `bench-code-${randomBytes(8).toString('hex')}`
  const secret = randomSecret(32)
  await b.db.query(
    `INSERT INTO clients (id, name, secret_hash, public, cookie_delivery, grant_types, scopes, audience, redirect_uris, first_party, updated_at)
     VALUES ($1, 'benchmark web app', $2, false, false, $3, $4, NULL, $5, true, now())`,
    [id, sha256(secret), ['authorization_code', 'refresh_token'], ['openid', 'email', 'profile'], [REDIRECT_URI]],
  )
  return { id, secret, basic: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` }
}

/** `count` codes of the pool users (one browser session each), all with one PKCE pair; the form bodies that exchange them. */
async function seedCodes(b: Bench, client: BenchClient, count: number, ttlSeconds: number): Promise<string[]> {
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const sessions = b.users.map(() => randomBytes(32).toString('base64url'))
  await b.db.query(
    `INSERT INTO browser_sessions (id, user_id, auth_time, expires_at)
     SELECT s, u::uuid, now(), now() + interval '1 day' FROM unnest($1::text[], $2::text[]) AS x(s, u)`,
    [sessions, b.users.map((u) => u.id)],
  )
  const bodies: string[] = []
  const BATCH = 10_000
  for (let done = 0; done < count; done += BATCH) {
    const n = Math.min(BATCH, count - done)
    const codes = Array.from({ length: n }, () => randomBytes(32).toString('base64url'))
    const hashes = codes.map((c) => createHash('sha256').update(c).digest('base64url'))
    const owners = codes.map((_, i) => (done + i) % b.users.length)
    await b.db.query(
      `INSERT INTO authorization_codes (code_hash, client_id, user_id, session_id, redirect_uri, code_challenge, nonce, scope, auth_time, expires_at)
       SELECT h, $3, u::uuid, s, $4, $5, $6, $7, now(), now() + make_interval(secs => $8)
         FROM unnest($1::text[], $2::text[], $9::text[]) AS x(h, u, s)`,
      [hashes, owners.map((i) => b.users[i]!.id), client.id, REDIRECT_URI, challenge, NONCE, SCOPE, ttlSeconds, owners.map((i) => sessions[i]!)],
    )
    for (const code of codes) bodies.push(form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }))
  }
  return bodies
}

/** A 200 of the load: access and refresh token as for any sign-in, and an ID token for the client whose at_hash is the access token's. */
async function checkSample(b: Bench, client: BenchClient, body: string | undefined): Promise<string> {
  if (body === undefined) return 'NO 200 in the load to check'
  await checkUserTokens(body, b.server.target, client.id)
  const parsed = JSON.parse(body) as { access_token: string; id_token?: string; scope?: string }
  assert(parsed.scope === SCOPE, `the scope is ${SCOPE}`)
  assert(typeof parsed.id_token === 'string', 'an ID token (scope openid)')
  const jwks = createLocalJWKSet((await (await fetch(`${b.server.base}/.well-known/jwks.json`)).json()) as JSONWebKeySet)
  const { payload } = await jwtVerify(parsed.id_token, jwks, { issuer: b.server.target.issuer, audience: client.id, typ: 'JWT', algorithms: ['RS256'] })
  const atHash = createHash('sha256').update(parsed.access_token).digest().subarray(0, 16).toString('base64url')
  assert(payload.at_hash === atHash, 'at_hash is the left half of the access token’s SHA-256')
  assert(payload.nonce === NONCE && typeof payload.auth_time === 'number' && typeof payload.sid === 'string', 'nonce, auth_time and sid')
  return 'access, refresh and ID token verify against the JWKS (ID token: aud = client, nonce, at_hash of the access token)'
}

/** One more code: exchanged, 200; the same code again: invalid_grant. */
async function checkReplay(b: Bench, client: BenchClient): Promise<string> {
  const [body] = await seedCodes(b, client, 1, 60)
  const exchange = () =>
    fetch(`${b.server.base}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.basic }, body })
  const first = await exchange()
  assert(first.status === 200, `a fresh code is exchanged (got ${first.status} ${await first.clone().text()})`)
  const again = await exchange()
  const error = ((await again.json()) as { error?: string }).error
  assert(again.status === 400 && error === 'invalid_grant', `the same code again is refused with invalid_grant (got ${again.status} ${error})`)
  return 'one more code answers 200, and the same code again is refused (invalid_grant)'
}

export async function authorizationCode(b: Bench): Promise<void> {
  const client = await seedCodeClient(b)
  const timed = b.plan.runs * b.plan.seconds
  const count = CODE_RATE_BOUND * (b.plan.warmup + timed + 10)
  const t0 = Date.now()
  const bodies = await seedCodes(b, client, count, WARMUP_MAX + timed + 60)
  log(`authorization_codes: ${fmt(count)} codes of ${b.users.length} users written by SQL in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  if (b.wanted('sign')) b.results.signForCode = await signBaseline(b, ' (again, next to authorization_code)')

  const name = `POST /token authorization_code (scope ${SCOPE}: 3 signatures)`
  const pid = b.server.child.pid!
  announce(b.plan, name)
  await settle(pid)
  const cpu = cpuMeter(pid, b.lg.pid)
  const load = await b.lg.bodies(
    shaped(b.plan, {
      url: b.server.base,
      method: 'POST',
      path: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.basic },
    }),
    bodies,
  )
  const used = cpu()
  await settle(pid)
  logRuns(load, used)
  const note = `${fmt(load.used)} of ${fmt(count)} single-use codes spent (${CONNECTIONS} connections)${load.exhausted ? `; CODES EXHAUSTED ${load.exhausted}×` : ''}; codes written by SQL before the load live ${WARMUP_MAX + timed + 60} s, not 60 s, so none expires during it`
  log(`  ${note}`)
  b.results.authorization_code = {
    ...aggregate(name, load, { note, cpu: used }),
    check: `${await checkSample(b, client, load.sample)}; ${await checkReplay(b, client)}`,
  }
  if (b.wanted('sign')) b.results.signAfterCode = await signBaseline(b, ' (again, after authorization_code)')
}
