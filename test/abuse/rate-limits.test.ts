// Per-address rate limits (docs/errors.md#rate-limited): each limited route counts one client
// address's requests in a window and answers 429 rate_limited, with Retry-After, over it; the
// address is the socket's unless TRUST_PROXY names the proxies; with REDIS_URL two instances
// share one limit, and without Redis they keep serving (fail open) and say so.
import { Redis } from 'ioredis'
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { makeClient } from '../helpers/factories.js'
import { startRedis } from '../helpers/redis.js'
import { until } from '../helpers/wait.js'

const RATE_LIMITED = { error: 'rate_limited', error_description: 'Too many requests; try again later.' }

eachLeg(t, async (t, leg) => {
  t.test('each limit engages over its budget, per address, and releases after its window', async (t) => {
    const { app } = await build(t, leg, { env: { RATE_LIMIT_TOKEN: '3/2s', RATE_LIMIT_SIGNUP: '2/1m', RATE_LIMIT_PASSWORD: '2/1m' } })
    const client = await makeClient(app)
    const cc = (ip: string) =>
      app.inject({
        method: 'POST',
        url: '/token',
        remoteAddress: ip,
        headers: { authorization: client.basic, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=client_credentials',
      })
    for (let i = 1; i <= 3; i++) t.equal((await cc('192.0.2.1')).statusCode, 200, `/token ${i} of 3`)
    const over = await cc('192.0.2.1')
    t.equal(over.statusCode, 429, 'the fourth within the window')
    t.same(over.json(), RATE_LIMITED)
    t.match(over.headers['retry-after'], /^[12]$/, 'Retry-After: the seconds left in the window')
    t.equal(over.headers['content-type'], 'application/json; charset=utf-8')
    t.equal((await cc('192.0.2.2')).statusCode, 200, 'another address has its own budget')
    t.notOk('x-ratelimit-remaining' in (await cc('192.0.2.3')).headers, 'no counting headers on answers under the limit')
    await until('the window passes', 5000, async () => (await cc('192.0.2.1')).statusCode === 200)
    t.pass('released after the window')

    const signUp = (i: number) =>
      app.inject({
        method: 'POST',
        url: '/users',
        remoteAddress: '198.51.100.7',
        payload: { email: `limit${i}-${Date.now()}@example.com`, password: 'long enough password' },
      })
    t.equal((await signUp(1)).statusCode, 201)
    t.equal((await signUp(2)).statusCode, 201)
    const third = await signUp(3)
    t.equal(third.statusCode, 429, 'sign-ups: 2 a minute')
    t.same(third.json(), RATE_LIMITED)

    const forgot = () => app.inject({ method: 'POST', url: '/password/forgot', remoteAddress: '198.51.100.8', payload: { email: 'someone@example.com' } })
    t.equal((await forgot()).statusCode, 202)
    t.equal((await forgot()).statusCode, 202)
    t.equal((await forgot()).statusCode, 429, '/password/forgot: 2 a minute')
    const reset = await app.inject({
      method: 'POST',
      url: '/password/reset',
      remoteAddress: '198.51.100.8',
      payload: { token: 'x'.repeat(43), password: 'long enough password' },
    })
    t.equal(reset.statusCode, 400, '/password/reset has its own budget')
    const jwks = await app.inject({ url: '/.well-known/jwks.json', remoteAddress: '192.0.2.1' })
    t.equal(jwks.statusCode, 200, 'unlimited routes stay unlimited')
    t.match(
      await app.metrics.registry.getSingleMetricAsString('tessera_rate_limited_total'),
      /tessera_rate_limited_total\{route="\/token"\} [1-9]/,
      'counted by route',
    )
  })

  t.test('X-Forwarded-For counts only when TRUST_PROXY names the proxy', async (t) => {
    const cc = async (app: Awaited<ReturnType<typeof build>>['app'], client: { basic: string }, forwarded: string) =>
      (
        await app.inject({
          method: 'POST',
          url: '/token',
          remoteAddress: '10.0.0.5',
          headers: { authorization: client.basic, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': forwarded },
          payload: 'grant_type=client_credentials',
        })
      ).statusCode
    const direct = await build(t, leg, { env: { RATE_LIMIT_TOKEN: '2/1m' } })
    const c1 = await makeClient(direct.app)
    // Without a trusted proxy, a forged X-Forwarded-For changes nothing: the socket's address counts.
    t.same([await cc(direct.app, c1, '203.0.113.1'), await cc(direct.app, c1, '203.0.113.2'), await cc(direct.app, c1, '203.0.113.3')], [200, 200, 429])

    const proxied = await build(t, leg, { env: { RATE_LIMIT_TOKEN: '2/1m', TRUST_PROXY: '10.0.0.0/8' } })
    const c2 = await makeClient(proxied.app)
    t.same(
      [
        await cc(proxied.app, c2, '203.0.113.1'),
        await cc(proxied.app, c2, '203.0.113.1'),
        await cc(proxied.app, c2, '203.0.113.1'),
        await cc(proxied.app, c2, '203.0.113.2'),
      ],
      [200, 200, 429, 200],
      'behind the named proxy: the client it names counts',
    )
    const hops = await build(t, leg, { env: { RATE_LIMIT_TOKEN: '2/1m', TRUST_PROXY: '1' } })
    const c3 = await makeClient(hops.app)
    // One hop trusted: of "forged, real", the proxy appended the real one; the forged one is ignored.
    t.same(
      [
        await cc(hops.app, c3, '198.51.100.1, 203.0.113.9'),
        await cc(hops.app, c3, '198.51.100.2, 203.0.113.9'),
        await cc(hops.app, c3, '198.51.100.3, 203.0.113.9'),
      ],
      [200, 200, 429],
      'a hop count: the address the trusted hop saw',
    )
  })

  t.test('two instances share one limit through Redis; without Redis they keep serving', async (t) => {
    const redis = await startRedis(t)
    const env = { RATE_LIMIT_TOKEN: '3/1m', REDIS_URL: redis.url }
    const a = await build(t, leg, { env })
    const b = await build(t, leg, { db: a.db, config: a.config })
    const client = await makeClient(a.app)
    const cc = (app: typeof a.app) =>
      app.inject({
        method: 'POST',
        url: '/token',
        remoteAddress: '192.0.2.50',
        headers: { authorization: client.basic, 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=client_credentials',
      })
    await until(
      'both instances reach Redis',
      10_000,
      async () => (await a.app.inject('/readyz')).json().rate_limits === 'shared' && (await b.app.inject('/readyz')).json().rate_limits === 'shared',
    )
    const answers = [await cc(a.app), await cc(b.app), await cc(a.app), await cc(b.app)].map((r) => r.statusCode)
    t.same(answers, [200, 200, 200, 429], 'three between them, then the fourth is refused, whichever instance it reaches')
    const inspect = new Redis(redis.url)
    t.ok((await inspect.keys('tessera-rl-*')).length > 0, 'the counter is in Redis')
    inspect.disconnect()

    await redis.stop()
    await until('the instances notice Redis is gone', 10_000, async () => (await a.app.inject('/readyz')).json().rate_limits === 'unavailable')
    const ready = await a.app.inject('/readyz')
    t.equal(ready.statusCode, 200, 'still ready: serving without Redis')
    t.same([(await cc(a.app)).statusCode, (await cc(b.app)).statusCode], [200, 200], 'fail open: limits are not enforced while Redis is down')

    await redis.start()
    await until(
      'the instances are back on Redis',
      15_000,
      async () => (await a.app.inject('/readyz')).json().rate_limits === 'shared' && (await b.app.inject('/readyz')).json().rate_limits === 'shared',
    )
    const again = [await cc(a.app), await cc(b.app), await cc(a.app), await cc(b.app)].map((r) => r.statusCode)
    t.same(again, [200, 200, 200, 429], 'shared again once Redis is back (a fresh Redis: a fresh count)')
  })
})
