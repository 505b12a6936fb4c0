// Issue 4, "Done means" 1: resource servers that CACHE the JWKS — jose's createRemoteJWKSet
// (cacheMaxAge + cooldownDuration) and express-jwt + jwks-rsa (cache + rateLimit) — see three
// planned rotations while tokens are issued and verified without pause, and reject nothing.
// Then `rotate --now` kills the old key's tokens everywhere, and two negative controls show that
// the same verifiers DO reject good tokens when a key signs before their caches have it.
//
// Time. Everything runs on real time, scaled down 300× from production so the file stays short:
//
//                    production    here
//   JWKS max-age        5 min       1 s    (JWKS_MAX_AGE)
//   verifier caches    10 min       2 s    (jose cacheMaxAge and cooldownDuration, jwks-rsa cacheMaxAge)
//   KEY_PREPUBLISH     15 min       3 s
//
// so the verifiers keep the JWKS longer than its header says (as the libraries do, docs/keys.md#timings)
// but shorter than a `next` key is published before it signs — the one rule that makes planned
// rotation invisible. Tessera runs on the real clock too (no injected clock): the verifiers'
// caches only know real time, and a frozen Tessera clock would let the test, not the server,
// decide when a key may sign. The jose verifier's cooldown equals its cache lifetime, so it
// never refetches early for an unknown `kid`: the strictest cache, which rejects any token whose
// key it has not fetched. Every JWKS fetch goes through a counting proxy, one path per verifier,
// which proves they cache (far fewer fetches than verifications) and refetch when stale.
import { createServer } from 'node:http'
import express, { type NextFunction, type Request, type Response } from 'express'
import { expressjwt, type Request as JwtRequest, UnauthorizedError } from 'express-jwt'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import jwksRsa from 'jwks-rsa'
import t from 'tap'
import { eachLeg } from '../helpers/build.js'
import { adminToken, decode, makeAdminConsole, makeClient, makeUser, post, token } from '../helpers/factories.js'
import { until, untilTime } from '../helpers/wait.js'
import { listeningTessera, listenOnLoopback, tokenOverHttp } from '../interop/listen.js'

const SECOND = 1000
const JWKS_MAX_AGE = 1
const CACHE = 2 * SECOND
const KEY_PREPUBLISH = 3
/** Long enough that no token of the run expires: a rejection can only be about keys. */
const ACCESS_TOKEN_TTL = 60

/** A resource server's check of a bearer token: null when accepted, else why it was rejected. */
interface Verifier {
  name: string
  verify(jwt: string): Promise<string | null>
}

interface Outcome {
  verifier: string
  kid: string
  grant: string
  reason: string | null
  /** When the verification finished. */
  at: number
}

/** jose's remote JWKS, as a resource server would use it (RFC 9068 `typ` check included). */
function joseVerifier(name: string, jwksUri: string, issuer: string, opts: { cooldownDuration?: number; cacheMaxAge?: number }): Verifier {
  const jwks = createRemoteJWKSet(new URL(jwksUri), opts)
  return {
    name,
    verify: (jwt) =>
      jwtVerify(jwt, jwks, { issuer, audience: 'api', typ: 'at+jwt', algorithms: ['RS256'] }).then(
        () => null,
        (e: Error & { code?: string }) => `${e.code ?? e.name}: ${e.message}`,
      ),
  }
}

/** The Express tutorials' resource server: express-jwt with jwks-rsa's cached, rate-limited secret. */
async function expressVerifier(
  t: { teardown(fn: () => unknown): void },
  name: string,
  jwksUri: string,
  issuer: string,
  opts: { cacheMaxAge: number; jwksRequestsPerMinute: number },
): Promise<Verifier> {
  const api = express()
  api.get(
    '/api',
    expressjwt({ secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true, ...opts }), audience: 'api', issuer, algorithms: ['RS256'] }),
    (req: JwtRequest, res: Response) => void res.json({ sub: req.auth?.sub }),
  )
  api.use((err: Error & { code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err instanceof UnauthorizedError ? err.status : 500).json({ error: err.code ?? err.name, message: err.message })
  })
  const base = await listenOnLoopback(t, createServer(api))
  return {
    name,
    verify: async (jwt) => {
      const res = await fetch(`${base}/api`, { headers: { authorization: `Bearer ${jwt}` } })
      return res.status === 200 ? null : `${res.status} ${await res.text()}`
    },
  }
}

/** Serves Tessera's JWKS under /NAME, counting the fetches of each verifier. */
async function countingJwksProxy(t: { teardown(fn: () => unknown): void }, issuer: string) {
  const counts = new Map<string, number>()
  const server = createServer((req, res) => {
    const name = (req.url ?? '').slice(1)
    counts.set(name, (counts.get(name) ?? 0) + 1)
    fetch(`${issuer}/.well-known/jwks.json`)
      .then(async (up) => {
        res.writeHead(up.status, {
          'content-type': up.headers.get('content-type') ?? 'application/json',
          'cache-control': up.headers.get('cache-control') ?? 'no-store',
        })
        res.end(await up.text())
      })
      .catch(() => {
        res.writeHead(502).end()
      })
  })
  const base = await listenOnLoopback(t, server)
  return { url: (name: string) => `${base}/${name}`, fetches: (name: string) => counts.get(name) ?? 0 }
}

/**
 * Issues tokens without pause (client_credentials and password, in turn, over HTTP) and has
 * every verifier check each one at once, until stopped.
 */
function traffic(issue: (i: number) => Promise<{ jwt: string; grant: string }>, verifiers: Verifier[]) {
  const outcomes: Outcome[] = []
  let running = true
  const done = (async () => {
    for (let i = 0; running; i++) {
      const { jwt, grant } = await issue(i)
      const kid = decode(jwt).header.kid as string
      await Promise.all(
        verifiers.map(async (v) => {
          const reason = await v.verify(jwt)
          outcomes.push({ verifier: v.name, kid, grant, reason, at: Date.now() })
        }),
      )
    }
  })()
  done.catch(() => {}) // reported by stop()
  return {
    outcomes,
    /** Outcomes of one verifier for tokens of one key. */
    of: (verifier: string, kid?: string) => outcomes.filter((o) => o.verifier === verifier && (kid === undefined || o.kid === kid)),
    async stop() {
      running = false
      await done
    },
  }
}

interface KeyRow {
  kid: string
  state: string
  published_at: string
  activated_at: string | null
}

// The legs share nothing (own Tessera, port, proxy and verifiers) and mostly wait on real time:
// side by side.
t.jobs = 2

eachLeg(t, async (t, leg) => {
  const { app, issuer } = await listeningTessera(t, leg, {
    KEY_PREPUBLISH: `${KEY_PREPUBLISH}s`,
    JWKS_MAX_AGE: String(JWKS_MAX_AGE),
    ACCESS_TOKEN_TTL: `${ACCESS_TOKEN_TTL}s`,
    KEY_RING_POLL: '1', // the background loop (sweep, pick-up) runs as in production
  })
  const client = await makeClient(app)
  const user = await makeUser(app)
  const admin = await makeUser(app, { role: 'admin' })
  // The admin API takes only tokens of its own client (audience and scope), not everyday ones.
  const adminConsole = await makeAdminConsole(app)
  // One sign-in (argon2, tens of ms of CPU each) serves every admin call until `rotate --now`
  // removes the key that signed it: the 401 then means sign in again. Fewer sign-ins keep the
  // real-time steps (a rotation, then at once the early retry) short on a busy machine.
  let bearer: string | undefined
  const adminApi = async (method: 'GET' | 'POST', url: string, payload?: object) => {
    for (let attempt = 1; ; attempt++) {
      bearer ??= await adminToken(app, adminConsole, admin)
      const res = await app.inject({ method, url, headers: { authorization: `Bearer ${bearer}` }, ...(payload ? { payload } : {}) })
      if (res.statusCode !== 401 || attempt === 2) return res
      bearer = undefined
    }
  }
  const ring = async () => (await adminApi('GET', '/admin/keys')).json().keys as KeyRow[]
  const published = async () => ((await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid)
  const issue = async (i: number) => {
    const grant = i % 2 ? 'password' : 'client_credentials'
    const params: Record<string, string> =
      grant === 'password' ? { grant_type: grant, username: user.email, password: user.password, scope: 'openid read' } : { grant_type: grant, scope: 'read' }
    return { jwt: (await tokenOverHttp(issuer, client, params)).access_token, grant }
  }

  /**
   * Waits until the next key has been published for KEY_PREPUBLISH. Real time on purpose: the
   * verifiers' caches age on the wall clock, and whether they have the key by the time it signs
   * is the behaviour under test (see the top of the file); no condition can stand in for it.
   */
  const untilPrepublished = async (next: KeyRow) => untilTime(Date.parse(next.published_at) + KEY_PREPUBLISH * SECOND + 100)

  /** Waits (real time) until the next key has been published for KEY_PREPUBLISH, then rotates. */
  const plannedRotation = async () => {
    const next = (await ring()).find((k) => k.state === 'next')!
    await untilPrepublished(next)
    const res = await adminApi('POST', '/admin/keys/rotate')
    if (res.statusCode !== 200) throw new Error(`planned rotation refused: ${res.statusCode} ${res.body}`)
    return res.json() as { active: string; previous: string; next: string; emergency: boolean }
  }

  const proxy = await countingJwksProxy(t, issuer)
  const jose = joseVerifier('jose', proxy.url('jose'), issuer, { cacheMaxAge: CACHE, cooldownDuration: CACHE })
  const rsa = await expressVerifier(t, 'jwks-rsa', proxy.url('jwks-rsa'), issuer, { cacheMaxAge: CACHE, jwksRequestsPerMinute: 30 })
  // Negative control A: a verifier that caches LONGER than KEY_PREPUBLISH (the misconfiguration
  // docs/keys.md#timings forbids), run alongside. It must reject tokens of the key promoted at the second
  // rotation, which was published after its only fetch: rejections are really detected.
  const stale = joseVerifier('jose, cache longer than KEY_PREPUBLISH', proxy.url('stale'), issuer, { cacheMaxAge: 60 * SECOND, cooldownDuration: 60 * SECOND })
  const main = [jose, rsa]

  let compromised: { kid: string; at: number } | undefined
  const startedAt = Date.now()
  const initial = await published()
  const load = traffic(issue, [...main, stale])
  t.teardown(() => load.stop().catch(() => {}))
  const rotations: { active: string; previous: string; next: string }[] = []

  t.test('three planned rotations under continuous traffic: caching verifiers reject nothing', async (t) => {
    t.ok(CACHE / SECOND < KEY_PREPUBLISH && CACHE / SECOND > JWKS_MAX_AGE, 'verifiers cache longer than max-age, shorter than KEY_PREPUBLISH')
    t.equal((await fetch(`${issuer}/.well-known/jwks.json`)).headers.get('cache-control')?.match(/max-age=(\d+)/)?.[1], String(JWKS_MAX_AGE))
    await until('every verifier has checked a token', 10 * SECOND, async () =>
      main.every((v) => load.of(v.name).length) && load.of(stale.name).length ? true : undefined,
    )

    for (let n = 1; n <= 3; n++) {
      const before = app.keys.signer.kid
      const oldToken = (await issue(0)).jwt
      t.equal(decode(oldToken).header.kid, before)
      const r = await plannedRotation()
      rotations.push(r)
      t.equal(r.previous, before, `rotation ${n}: the active key steps down`)
      if (n === 1) {
        const early = await adminApi('POST', '/admin/keys/rotate')
        t.equal(early.statusCode, 409, 'at once again: refused, the new next key has not been published for KEY_PREPUBLISH')
      }
      const promoted = (await ring()).find((k) => k.kid === r.active)!
      const waited = (Date.parse(promoted.activated_at!) - Date.parse(promoted.published_at)) / SECOND
      t.ok(waited >= KEY_PREPUBLISH, `rotation ${n}: the promoted key was published ${waited} s before it signed (KEY_PREPUBLISH ${KEY_PREPUBLISH} s)`)
      t.ok((await published()).includes(before), `rotation ${n}: the retiring key stays published`)
      // Tokens the retiring key signed keep verifying (docs/keys.md#key-states: published until they expire).
      for (const v of main) t.equal(await v.verify(oldToken), null, `rotation ${n}: ${v.name} still accepts a token of the retiring key`)
      // Each key's epoch really had traffic: tokens the promoted key signed, checked by both.
      await until(`there is traffic signed by ${r.active}`, 10 * SECOND, async () => (main.every((v) => load.of(v.name, r.active).length) ? true : undefined))
    }
    const kids = new Set(load.outcomes.map((o) => o.kid))
    t.equal(kids.size, 4, 'the traffic was signed by four keys: the first and three promoted ones')
  })

  t.test('rotate --now: the old key is gone from the JWKS, and its tokens fail at both verifiers, /introspect and refresh', async (t) => {
    // A ring that has been running: its next key is published for KEY_PREPUBLISH, so cached.
    const next = (await ring()).find((k) => k.state === 'next')!
    await untilPrepublished(next)

    const pw = await tokenOverHttp(issuer, client, { grant_type: 'password', username: user.email, password: user.password, scope: 'openid read' })
    const cc = await tokenOverHttp(issuer, client, { grant_type: 'client_credentials', scope: 'read' })
    const old = decode(pw.access_token).header.kid as string
    t.equal(decode(cc.access_token).header.kid, old)
    for (const v of main) t.equal(await v.verify(pw.access_token), null, `${v.name} accepts the token before`)
    t.equal((await post(app, '/introspect', client, { token: pw.access_token })).json().active, true)

    compromised = { kid: old, at: Date.now() }
    const fetchesBefore = Object.fromEntries(main.map((v) => [v.name, proxy.fetches(v.name)]))
    const res = await adminApi('POST', '/admin/keys/rotate', { now: true })
    t.equal(res.statusCode, 200)
    t.match(res.json(), { previous: old, active: next.kid, emergency: true })
    const rotatedAt = Date.now()

    t.notOk((await published()).includes(old), 'gone from the JWKS at once')
    for (const tok of [pw.access_token, cc.access_token]) {
      t.equal((await post(app, '/introspect', client, { token: tok })).json().active, false, '/introspect: inactive at once')
    }
    const refresh = await token(app, client, { grant_type: 'refresh_token', refresh_token: pw.refresh_token! })
    t.equal(refresh.statusCode, 400)
    t.equal(refresh.json().error, 'invalid_grant', 'its refresh token no longer refreshes')

    // A verifier trusts what it cached until the cache ends; then it refetches (an unknown or
    // stale kid sends it back to the JWKS) and the old key is no longer there.
    for (const v of main) {
      const reason = await until(`${v.name} rejects the old key's token`, CACHE + 5 * SECOND, async () => (await v.verify(pw.access_token)) ?? undefined)
      const after = Date.now() - rotatedAt
      t.match(reason, /no applicable key|signing key|secret|invalid_token|ERR_JWKS_NO_MATCHING_KEY/i, `${v.name} rejects it: ${reason}`)
      t.ok(after <= CACHE + 2 * SECOND, `${v.name}: within its cache lifetime (${after} ms)`)
      t.ok(proxy.fetches(v.name) > fetchesBefore[v.name]!, `${v.name} refetched the JWKS`)
      t.not(await v.verify(cc.access_token), null, `${v.name} rejects the client_credentials token of the old key too`)
    }
    // The traffic goes on with the promoted key, which the verifiers had long cached.
    await until('there is traffic signed by the new active key', 10 * SECOND, async () =>
      main.every((v) => load.of(v.name, next.kid).filter((o) => o.at > rotatedAt).length) ? true : undefined,
    )
  })

  t.test('the whole run: zero rejections at the caching verifiers, which really cached', async (t) => {
    await load.stop()
    const elapsed = Date.now() - startedAt
    // The only rejections allowed: the compromised key's tokens, once it was compromised.
    const excused = (o: Outcome) => compromised !== undefined && o.kid === compromised.kid && o.at >= compromised.at
    for (const v of main) {
      const all = load.of(v.name)
      const rejected = all.filter((o) => o.reason !== null && !excused(o))
      t.same(rejected, [], `${v.name}: no good token rejected in ${all.length} verifications`)
      t.ok(all.length >= 40, `${v.name}: verified continuously (${all.length} tokens, both grants)`)
      t.ok(new Set(all.map((o) => o.grant)).size === 2)
      const fetches = proxy.fetches(v.name)
      t.ok(fetches >= 3, `${v.name} refetched as its cache went stale (${fetches} fetches)`)
      t.ok(fetches * 5 <= all.length, `${v.name} cached: ${fetches} fetches for ${all.length} verifications`)
      t.ok(fetches <= Math.ceil(elapsed / CACHE) + 8, `${v.name}: about one fetch per cache lifetime (${fetches} in ${elapsed} ms)`)
    }

    // Control A: the over-long cache fetched once and rejected the key promoted at rotation 2.
    t.equal(proxy.fetches('stale'), 1, 'the over-long cache fetched once')
    const staleRejected = load.of(stale.name).filter((o) => o.reason !== null)
    t.ok(staleRejected.length > 0, `control: a cache longer than KEY_PREPUBLISH rejected ${staleRejected.length} good tokens`)
    t.equal(staleRejected[0]?.kid, rotations[1]?.active, 'first for the key promoted at the second rotation, published after its fetch')
    t.ok(
      staleRejected.every((o) => !initial.includes(o.kid) && /ERR_JWKS_NO_MATCHING_KEY/.test(o.reason!)),
      'each for a key it had never fetched',
    )
    t.same(
      load.of(stale.name, rotations[0]!.active).filter((o) => o.reason !== null),
      [],
      'the key promoted at rotation 1 was in its one fetch: accepted',
    )
  })

  t.test('control B: a key that signs before the caches have it (rotate --now on a fresh next key) is rejected', async (t) => {
    // Production defaults: jose caches 10 min with a 30 s cooldown; jwks-rsa caches, with its
    // refetch budget (rate limit) used up by its first fetch.
    const cjose = joseVerifier('control jose', proxy.url('control-jose'), issuer, {})
    const crsa = await expressVerifier(t, 'control jwks-rsa', proxy.url('control-rsa'), issuer, { cacheMaxAge: 600 * SECOND, jwksRequestsPerMinute: 1 })
    const before = (await issue(0)).jwt
    for (const v of [cjose, crsa]) t.equal(await v.verify(before), null, `${v.name} accepts a token of the active key`)

    // Replace the (cached) next key with a fresh one, then force it to sign at once.
    const next = (await ring()).find((k) => k.state === 'next')!
    t.same((await adminApi('POST', `/admin/keys/${next.kid}/retire`)).json(), { kid: next.kid, state: 'deleted' })
    const fresh = (await ring()).find((k) => k.state === 'next')!
    t.equal((await adminApi('POST', '/admin/keys/rotate')).statusCode, 409, 'a planned rotation refuses the unpublished key')
    const forced = await adminApi('POST', '/admin/keys/rotate', { now: true })
    t.match(forced.json(), { active: fresh.kid, emergency: true })

    const after = (await issue(0)).jwt
    t.equal(decode(after).header.kid, fresh.kid)
    t.equal((await post(app, '/introspect', client, { token: after })).json().active, true, 'the token is good: Tessera itself accepts it')
    t.match(await cjose.verify(after), /ERR_JWKS_NO_MATCHING_KEY/, 'jose rejects it: unknown kid, and the cooldown forbids a refetch')
    t.match(await crsa.verify(after), /Too many requests to the JWKS endpoint/, 'jwks-rsa rejects it: unknown kid, and no refetch budget left')
    t.equal(proxy.fetches('control-jose'), 1, 'jose did not refetch')
    t.equal(proxy.fetches('control-rsa'), 1, 'jwks-rsa did not refetch')
  })
})
