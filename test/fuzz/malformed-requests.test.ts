// Fuzzing every route with malformed requests (docs/errors.md): whatever is
// sent, no answer is a 5xx, and every error is the contract's JSON body
// {"error", "error_description"[, "details"]} — never a framework's own body, an HTML page or a
// stack trace. The routes are the app's own (printRoutes), so a new route is fuzzed as soon as
// it exists; a fixed list makes a route that disappears fail.
//
// Seeded: FUZZ_SEED=<n> repeats a run exactly, FUZZ_SEED=random picks one (printed on every run); FUZZ_RUNS and
// FUZZ_RAW_RUNS change how many requests go in process and over a socket; FUZZ_SHRINK=0 skips
// looking for a smaller failing request.
import fc from 'fast-check'
import t, { type Test } from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { routesOf } from '../helpers/routes.js'
import { type Answer, isPage, type Problem, problemsOf, sendRaw } from './answers.js'
import { rawRequests, requests } from './arbitraries.js'
import { type Concrete, describe, describeRaw, describeSpec, type RawSpec, type Spec, World } from './model.js'

const envInt = (name: string, fallback: number) => {
  const v = process.env[name]
  if (v === undefined || v === '') return fallback
  const n = Number(v)
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, not ${JSON.stringify(v)}`)
  return n
}
// A fixed seed by default, so that a run of the suite (CI's included) is repeatable; FUZZ_SEED=random
// explores, a new sample each run.
const SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : envInt('FUZZ_SEED', 20261202)
const RUNS = envInt('FUZZ_RUNS', 2000)
const RAW_RUNS = envInt('FUZZ_RAW_RUNS', 250)
const SHRINK = process.env.FUZZ_SHRINK !== '0'

/** Every route Tessera has (docs/endpoints.md): one that disappears fails the test. */
const EXPECTED = [
  'POST /token',
  'POST /revoke',
  'POST /introspect',
  'GET /.well-known/jwks.json',
  'GET /.well-known/oauth-authorization-server',
  'GET /.well-known/openid-configuration',
  'GET /healthz',
  'GET /readyz',
  'POST /users',
  'GET /users/:id/public',
  'POST /password/forgot',
  'POST /password/reset',
  'GET /me',
  'PATCH /me',
  'GET /userinfo',
  'POST /me/password',
  'GET /me/sessions',
  'DELETE /me/sessions',
  'DELETE /me/sessions/:id',
  'GET /me/consents',
  'DELETE /me/consents/:client_id',
  'GET /admin/users',
  'GET /admin/users/:id',
  'PATCH /admin/users/:id',
  'GET /admin/clients',
  'POST /admin/clients',
  'GET /admin/clients/:id',
  'DELETE /admin/clients/:id',
  'GET /admin/keys',
  'POST /admin/keys/rotate',
  'POST /admin/keys/:kid/retire',
  'GET /admin/audit-events',
  'GET /authorize',
  'GET /signin',
  'POST /signin',
  'GET /signup',
  'POST /signup',
  'GET /consent',
  'POST /consent',
  'GET /forgot-password',
  'POST /forgot-password',
  'GET /reset-password',
  'POST /reset-password',
  'GET /logout',
  'POST /logout',
  'GET /assets/tessera.css',
  'GET /openapi.json',
  'GET /docs',
]

interface Failure {
  index: number
  signature: string
  problems: Problem[]
  request: string
  answer: string
}

interface Outcome {
  problems: Problem[]
  signature: string
  request: string
  answer: string
  status: number | string
}

const describeAnswer = (a: Answer) =>
  `${a.status} content-type=${JSON.stringify(a.headers['content-type'] ?? null)} body=${JSON.stringify(a.body.length > 600 ? `${a.body.slice(0, 600)}…` : a.body)}`

// Header values as Node's HTTP parser would deliver them (latin1, no control characters but
// tab): app.inject would pass anything, which no real request can carry. Control characters in
// headers go over the socket instead.
const headerSafe = (v: string) => v.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?')

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  )
}

/**
 * Runs `runs` generated requests; every one with a problem is recorded (the run goes on, so one
 * run shows every distinct defect). Then, per distinct defect, fast-check replays its first
 * failing request (seed and path) and shrinks it to a smaller one that fails the same way.
 */
async function fuzz<T>(t: Test, name: string, arb: fc.Arbitrary<T>, runs: number, send: (spec: T) => Promise<Outcome>, summary: (spec: T) => string) {
  const failures: Failure[] = []
  let index = 0
  const started = Date.now()
  const details = await fc.check(
    fc.asyncProperty(arb, async (spec) => {
      const i = index++
      const o = await send(spec)
      if (o.problems.length) failures.push({ index: i, signature: o.signature, problems: o.problems, request: o.request, answer: o.answer })
      return true
    }),
    { seed: SEED, numRuns: runs },
  )
  if (details.failed) throw details.errorInstance ?? new Error(`${name}: fast-check failed`)
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  t.comment(`${name}: ${details.numRuns} requests in ${seconds} s (FUZZ_SEED=${SEED})`)

  const distinct = new Map<string, Failure[]>()
  for (const f of failures) distinct.set(f.signature, [...(distinct.get(f.signature) ?? []), f])
  for (const [signature, all] of distinct) {
    const first = all[0]!
    let smallest = ''
    if (SHRINK) {
      const shrunk = await fc.check(
        fc.asyncProperty(arb, async (spec) => {
          const o = await send(spec)
          return o.signature !== signature
        }),
        { seed: SEED, path: String(first.index), numRuns: 1, interruptAfterTimeLimit: 20_000 },
      )
      if (shrunk.failed && shrunk.counterexample) {
        const [spec] = shrunk.counterexample
        const o = await send(spec)
        smallest = `\n  smallest request found (${shrunk.numShrinks} shrinks):\n${o.request}\n  answer: ${o.answer}\n  as generated: ${summary(spec)}`
      } else smallest = '\n  (the failure did not repeat on its own: it depends on what came before it)'
    }
    t.fail(`${name}: ${signature} (${all.length} of ${details.numRuns} requests)`, {
      diagnostic: true,
      found: `${first.problems.map((p) => p.text).join('; ')}\n  FUZZ_SEED=${SEED} npm test -- test/fuzz/ (request #${first.index}, fast-check path "${first.index}")\n  request:\n${first.request}\n  answer: ${first.answer}${smallest}`,
    })
  }
  if (distinct.size === 0) t.pass(`${name}: ${details.numRuns} requests, every answer kept the contract`)
}

eachLeg(t, async (t, leg) => {
  // 2,000 in-process requests and 250 over a socket per leg take well under a minute on a
  // 2-core machine; tap's 180 s covers both legs, unless FUZZ_RUNS asks for more.
  if (RUNS + RAW_RUNS > 4000) t.setTimeout(0)
  const { app } = await build(t, leg)
  const routes = routesOf(app)
  const names = routes.map((r) => `${r.method} ${r.url}`)
  t.comment(`FUZZ_SEED=${SEED} (${leg}); ${routes.length} routes from the app`)

  t.test('the app has every route of the contract', async (t) => {
    for (const r of EXPECTED) t.ok(names.includes(r), `${r} is a route`)
    const added = names.filter((n) => !EXPECTED.includes(n))
    if (added.length) t.comment(`fuzzed too, not in the fixed list: ${added.join(', ')}`)
  })

  const world = new World(app)
  await world.setup()
  const statuses = new Map<string, Map<number | string, number>>()
  const count = (target: string, status: number | string) => {
    const m = statuses.get(target) ?? new Map<number | string, number>()
    m.set(status, (m.get(status) ?? 0) + 1)
    statuses.set(target, m)
  }

  const sendSpec = async (spec: Spec): Promise<Outcome> => {
    const c: Concrete = world.concrete(spec)
    for (const k of Object.keys(c.headers)) c.headers[k] = headerSafe(c.headers[k]!)
    const request = describe(c)
    let answer: Answer
    try {
      const res = await withTimeout(app.inject({ method: c.method as 'GET', url: c.url, headers: c.headers, payload: c.payload }), 15_000, 'app.inject')
      answer = { status: res.statusCode, headers: res.headers as Answer['headers'], body: res.body }
    } catch (err) {
      const text = `inject failed: ${(err as Error).message}`
      return { problems: [{ kind: 'no answer', text }], signature: `${spec.target} → no answer`, request, answer: text, status: 'none' }
    }
    const problems = problemsOf(c.method, answer, c.url)
    if (spec.method === spec.target.split(' ')[0]) count(spec.target, answer.status)
    // A request that carried live credentials and may have spent them (signed out, rotated the
    // keys, deleted a client, changed a password, reused a refresh token): make new ones.
    if (c.usedCredentials && !['GET', 'HEAD', 'OPTIONS'].includes(c.method) && (answer.status < 300 || c.url.startsWith('/token'))) await world.heal()
    const signature = `${spec.target} (${spec.method === spec.target.split(' ')[0] ? 'its method' : spec.method}) → ${answer.status}: ${problems.map((p) => p.kind).join(', ')}`
    return { problems, signature, request, answer: describeAnswer(answer), status: answer.status }
  }

  await t.test(`${RUNS} malformed requests in process (app.inject)`, (t) => fuzz(t, 'inject', requests(routes), RUNS, sendSpec, (s) => describeSpec(s)))

  t.test('every route was fuzzed, and past authentication', async (t) => {
    if (RUNS < 1000) return t.pass('too few runs to tell')
    for (const r of names) {
      const m = statuses.get(r)
      const total = [...(m?.values() ?? [])].reduce((a, b) => a + b, 0)
      t.ok(total >= 10, `${r}: ${total} requests with its own method`)
      const past = [...(m?.entries() ?? [])].filter(([s]) => s !== 401 && s !== 403 && s !== 405).reduce((a, [, n]) => a + n, 0)
      // A page's form post needs the browser's CSRF token, which no fuzzed request holds:
      // test/oauth/authorization-code.test.ts goes past it.
      if (r.startsWith('POST ') && isPage(r.slice(5))) continue
      t.ok(past > 0, `${r}: ${past} answers past authentication`)
    }
    t.comment(
      [...statuses.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([r, m]) => `${r}: ${[...m.entries()].map(([s, n]) => `${s}×${n}`).join(' ')}`)
        .join('\n'),
    )
    t.comment(`credentials re-made ${world.heals} times`)
  })

  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : 0

  const sendRawSpec = async (spec: RawSpec): Promise<Outcome> => {
    const bytes = world.raw(spec)
    const request = `  ${bytes.length} bytes: ${describeRaw(bytes)}`
    const result = await sendRaw(port, bytes)
    if (result.answer === null) {
      const text = `${result.reason}${result.received ? ` (received ${JSON.stringify(result.received)})` : ''}`
      return { problems: [{ kind: 'no answer', text }], signature: `socket ${spec.kind} → no answer`, request, answer: text, status: 'none' }
    }
    const [method = '', target = ''] = bytes.subarray(0, 300).toString('latin1').split(/ +/)
    const problems = problemsOf(method, result.answer, target)
    return {
      problems,
      signature: `socket ${spec.kind} → ${result.answer.status}: ${problems.map((p) => p.kind).join(', ')}`,
      request,
      answer: describeAnswer(result.answer),
      status: result.answer.status,
    }
  }
  await t.test(`${RAW_RUNS} malformed requests over a socket`, (t) => fuzz(t, 'socket', rawRequests(routes), RAW_RUNS, sendRawSpec, (s) => describeSpec(s)))
})
