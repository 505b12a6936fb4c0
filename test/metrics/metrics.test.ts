// Prometheus metrics (README.md#metrics): traffic through the app moves each counter by exactly what it
// did, read from the metrics listener as a scraper would; the key-age and pool gauges; the
// Node.js defaults; and /metrics never on the public port, in the app and in a real process.
import t, { type Test } from 'tap'
import type { App } from '../../src/app.js'
import { type MetricsListener, startMetricsListener } from '../../src/metrics/listener.js'
import { DURATION_BUCKETS } from '../../src/metrics/registry.js'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'
import { authorizeUrl, PageBrowser, pageOf, pkce, redirectParams } from '../helpers/pages.js'
import { freePort, readyJwks, scratch, startServer } from '../helpers/process.js'

type Labels = Record<string, string>
interface Sample {
  name: string
  labels: Labels
  value: number
}

/** Prometheus text format 0.0.4 → samples (our label values hold no escaped quotes). */
function parse(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not a sample line: ${line}`)
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]))
    samples.push({ name: m[1]!, labels, value: Number(m[3]) })
  }
  return samples
}

class Scrape {
  constructor(readonly samples: Sample[]) {}
  /** The sum over every series of `name` whose labels include `labels` (0 when there is none). */
  sum(name: string, labels: Labels = {}): number {
    return this.matching(name, labels).reduce((s, x) => s + x.value, 0)
  }
  matching(name: string, labels: Labels = {}): Sample[] {
    return this.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  }
  has(name: string): boolean {
    return this.samples.some((s) => s.name === name || s.name.startsWith(`${name}_`))
  }
}

async function listen(t: Test, app: App): Promise<{ listener: MetricsListener; scrape: () => Promise<Scrape> }> {
  const listener = await startMetricsListener(app, { host: '127.0.0.1', port: 0 })
  t.teardown(() => listener.close())
  const scrape = async () => {
    const res = await fetch(`${listener.url}/metrics`)
    const type = res.headers.get('content-type') ?? ''
    if (res.status !== 200 || !type.startsWith('text/plain; version=0.0.4')) throw new Error(`GET /metrics: ${res.status} ${type}`)
    return new Scrape(parse(await res.text()))
  }
  return { listener, scrape }
}

/** How much each of `keys` moved between two scrapes. */
const moved = (before: Scrape, after: Scrape, keys: [string, Labels?][]) =>
  Object.fromEntries(keys.map(([name, labels]) => [`${name}${JSON.stringify(labels ?? {})}`, after.sum(name, labels) - before.sum(name, labels)]))

const CB = 'http://127.0.0.1:9/cb'

eachLeg(t, async (t, leg) => {
  const clock = frozenClock(Date.now())
  const { app } = await build(t, leg, { clock })
  const { listener, scrape } = await listen(t, app)
  const client = await makeClient(app)
  const browserClient = await makeClient(app, {
    name: 'console',
    public: true,
    firstParty: true,
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid'],
    redirectUris: [CB],
  })

  t.test('traffic moves each counter by what it did', async (t) => {
    const user = await makeUser(app)
    const before = await scrape()

    // client_credentials twice; a sign-in (password); a refresh; the spent token again (reuse).
    for (let i = 0; i < 2; i++) t.equal((await token(app, client, { grant_type: 'client_credentials' })).statusCode, 200)
    const first = await signIn(app, client, user)
    const refreshed = await token(app, client, { grant_type: 'refresh_token', refresh_token: first.refresh_token! })
    t.equal(refreshed.statusCode, 200)
    const reuse = await token(app, client, { grant_type: 'refresh_token', refresh_token: first.refresh_token! })
    t.equal(reuse.statusCode, 400, 'the spent refresh token is refused')
    t.equal((await token(app, client, { grant_type: 'refresh_token', refresh_token: first.refresh_token! })).statusCode, 400, 'and again')
    // Another sign-in, signed out through /revoke (RFC 7009).
    const second = await signIn(app, client, user)
    t.equal((await post(app, '/revoke', client, { token: second.refresh_token! })).statusCode, 200)
    // A wrong password.
    t.equal((await token(app, client, { grant_type: 'password', username: user.email, password: 'not the password' })).statusCode, 400)
    // The authorization code flow, then the same code again (a replay revokes what it issued).
    const b = new PageBrowser(app)
    const { verifier, challenge } = pkce()
    let page = await b.visit(
      authorizeUrl({
        response_type: 'code',
        client_id: browserClient.id,
        redirect_uri: CB,
        scope: 'openid',
        state: 's',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    )
    t.equal(pageOf(page), 'signin')
    page = await b.signIn(page, user)
    const { code } = redirectParams(page)
    const exchange = () => token(app, browserClient, { grant_type: 'authorization_code', code: code!, redirect_uri: CB, code_verifier: verifier })
    t.equal((await exchange()).statusCode, 200, 'the code is exchanged')
    t.equal((await exchange()).statusCode, 400, 'the replay is refused')
    // An id in a path: the label is the route's pattern, never the URL.
    t.equal((await app.inject({ url: '/admin/users/d6f1c7a2-5b3e-4c1f-9a8e-2f4b6c8d0e1a' })).statusCode, 401)
    t.equal((await app.inject({ url: '/no/such/path?x=1' })).statusCode, 404)

    const after = await scrape()
    t.same(
      moved(before, after, [
        ['tessera_tokens_issued_total', { grant: 'client_credentials' }],
        ['tessera_tokens_issued_total', { grant: 'password' }],
        ['tessera_tokens_issued_total', { grant: 'refresh_token' }],
        ['tessera_tokens_issued_total', { grant: 'authorization_code' }],
        ['tessera_refresh_reuse_detected_total'],
        ['tessera_families_revoked_total', { reason: 'reuse_detected' }],
        ['tessera_families_revoked_total', { reason: 'revoked_by_client' }],
        ['tessera_families_revoked_total', { reason: 'code_replayed' }],
        ['tessera_families_revoked_total'],
        ['tessera_signin_failures_total'],
        ['tessera_rate_limited_total'],
      ]),
      {
        'tessera_tokens_issued_total{"grant":"client_credentials"}': 2,
        'tessera_tokens_issued_total{"grant":"password"}': 2,
        'tessera_tokens_issued_total{"grant":"refresh_token"}': 1,
        'tessera_tokens_issued_total{"grant":"authorization_code"}': 1,
        'tessera_refresh_reuse_detected_total{}': 1,
        'tessera_families_revoked_total{"reason":"reuse_detected"}': 1,
        'tessera_families_revoked_total{"reason":"revoked_by_client"}': 1,
        'tessera_families_revoked_total{"reason":"code_replayed"}': 1,
        'tessera_families_revoked_total{}': 3,
        'tessera_signin_failures_total{}': 1,
        'tessera_rate_limited_total{}': 0,
      },
      'tokens by grant, one reuse (the second replay finds the family revoked already), three revocations, one failure',
    )

    const tokenOk = { method: 'POST', route: '/token', status: '200' }
    const tokenBad = { method: 'POST', route: '/token', status: '400' }
    t.same(
      moved(before, after, [
        ['tessera_http_requests_total', tokenOk],
        ['tessera_http_requests_total', tokenBad],
        ['tessera_http_request_duration_seconds_count', tokenOk],
        ['tessera_http_requests_total', { method: 'POST', route: '/revoke', status: '200' }],
        ['tessera_http_requests_total', { method: 'GET', route: '/admin/users/:id', status: '401' }],
        ['tessera_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }],
      ]),
      {
        [`tessera_http_requests_total${JSON.stringify(tokenOk)}`]: 6,
        [`tessera_http_requests_total${JSON.stringify(tokenBad)}`]: 4,
        [`tessera_http_request_duration_seconds_count${JSON.stringify(tokenOk)}`]: 6,
        'tessera_http_requests_total{"method":"POST","route":"/revoke","status":"200"}': 1,
        'tessera_http_requests_total{"method":"GET","route":"/admin/users/:id","status":"401"}': 1,
        'tessera_http_requests_total{"method":"GET","route":"unmatched","status":"404"}': 1,
      },
      'HTTP answers by method, route pattern and status; the histogram counts the same answers',
    )
    const routes = new Set(after.matching('tessera_http_requests_total').map((s) => s.labels.route))
    t.notOk(
      [...routes].some((r) => r?.includes('d6f1c7a2') || r?.includes('?') || r?.includes('/no/such')),
      'no raw URL is a label',
    )
    const buckets = after.matching('tessera_http_request_duration_seconds_bucket', tokenOk).map((s) => s.labels.le)
    t.same(buckets, [...DURATION_BUCKETS.map(String), '+Inf'], 'few buckets')
    t.ok(after.sum('tessera_http_request_duration_seconds_sum', tokenOk) > before.sum('tessera_http_request_duration_seconds_sum', tokenOk), 'time adds up')
  })

  t.test('the active key’s age, read on scrape', async (t) => {
    const activatedAt = app.keys.keys.find((k) => k.state === 'active')!.activatedAt!.getTime()
    const age = () => (clock.now() - activatedAt) / 1000
    t.equal((await scrape()).sum('tessera_signing_key_age_seconds'), age())
    clock.advance(3600)
    t.equal((await scrape()).sum('tessera_signing_key_age_seconds'), age(), 'an hour later, an hour older')
    t.ok(age() >= 3600)
  })

  t.test('the database pool on Postgres, none on PGlite', async (t) => {
    const s = await scrape()
    if (leg === 'postgres') {
      const total = s.sum('tessera_db_pool_connections')
      t.ok(total >= 1, `connections open: ${total}`)
      t.ok(s.sum('tessera_db_pool_idle_connections') <= total, 'idle ≤ open')
      t.equal(s.sum('tessera_db_pool_waiting_queries'), 0, 'nothing waits')
      t.equal(s.sum('tessera_db_pool_max_connections'), 10, 'the pool size')
    } else {
      t.notOk(s.has('tessera_db_pool_connections'), 'no pool, no pool series')
    }
  })

  t.test('the Node.js defaults', async (t) => {
    const s = await scrape()
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes'])
      t.ok(s.has(name), name)
  })

  t.test('/metrics is not on the public port; the listener serves nothing else', async (t) => {
    const res = await app.inject({ url: '/metrics' })
    t.equal(res.statusCode, 404)
    t.match(res.headers['content-type'], /^application\/json/)
    t.match(res.json(), { error: 'not_found' })
    const other = await fetch(`${listener.url}/token`, { method: 'POST' })
    t.equal(other.status, 404)
    t.match(await other.json(), { error: 'not_found' })
    t.equal((await fetch(`${listener.url}/metrics`, { method: 'POST' })).status, 404, 'only GET (and HEAD)')
  })

  t.test('a rate-limited request is counted by route', async (t) => {
    const { app } = await build(t, leg, { env: { RATE_LIMIT_TOKEN: '2/1m' } })
    const { scrape } = await listen(t, app)
    const client = await makeClient(app)
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await token(app, client, { grant_type: 'client_credentials' })).statusCode)
    t.same(statuses, [200, 200, 429])
    const s = await scrape()
    t.equal(s.sum('tessera_rate_limited_total', { route: '/token' }), 1)
    t.equal(s.sum('tessera_http_requests_total', { route: '/token', status: '429' }), 1)
    t.equal(s.sum('tessera_tokens_issued_total', { grant: 'client_credentials' }), 2)
  })
})

t.test('the real server serves /metrics on METRICS_PORT, and not on PORT', async (t) => {
  t.setTimeout(120_000)
  const dir = scratch(t, 'tessera-metrics-')
  const metricsPort = await freePort()
  const server = await startServer(t, dir, { METRICS_PORT: String(metricsPort) })
  await readyJwks(server)
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
  t.equal(res.status, 200)
  const s = new Scrape(parse(await res.text()))
  t.ok(s.sum('tessera_http_requests_total', { method: 'GET', route: '/.well-known/jwks.json', status: '200' }) >= 1, 'the JWKS fetch is counted')
  t.ok(s.has('process_cpu_user_seconds_total'), 'with the Node.js defaults')
  const pub = await fetch(`${server.url}/metrics`)
  t.equal(pub.status, 404, 'not on the public port')
  t.match(await pub.json(), { error: 'not_found' })
  t.ok(
    server.logs().some((l) => l.msg === 'tessera ready' && l.metrics === `http://127.0.0.1:${metricsPort}/metrics`),
    'the ready line names it',
  )
  const exit = await server.stop(30_000)
  t.same(exit, { code: 0, signal: null }, 'a clean exit closes both listeners')
  await t.rejects(fetch(`http://127.0.0.1:${metricsPort}/metrics`), 'the metrics port is closed')
})
