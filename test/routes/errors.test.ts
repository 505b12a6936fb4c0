// The contract's JSON error shape for everything that is not a success.
import { connect } from 'node:net'
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'

eachLeg(t, async (t, leg) => {
  const { app, db } = await build(t, leg)

  t.test('unknown route: 404 JSON, never HTML', async (t) => {
    const res = await app.inject('/no/such/thing?x=1')
    t.equal(res.statusCode, 404)
    t.match(res.headers['content-type'], /^application\/json/)
    t.same(res.json(), { error: 'not_found', error_description: 'No route for GET /no/such/thing.' })
  })

  t.test('wrong method: 405 with Allow', async (t) => {
    const res = await app.inject({ method: 'DELETE', url: '/.well-known/jwks.json' })
    t.equal(res.statusCode, 405)
    t.match(res.headers.allow, /GET/)
    t.equal(res.json().error, 'method_not_allowed')
  })

  t.test('every response carries a request id, and a plain caller id is kept', async (t) => {
    const mine = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } })
    t.equal(mine.headers['x-request-id'], 'abc-123')
    const hostile = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'a b\u0000<script>' } })
    const made = hostile.headers['x-request-id'] as string
    t.match(made, /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/, 'a hostile one is replaced by our own')
    const next = (await app.inject('/healthz')).headers['x-request-id'] as string
    t.not(next, made, 'each request gets its own')
    t.equal(next.slice(0, 9), made.slice(0, 9), 'one prefix per process')
  })

  t.test('health and readiness', async (t) => {
    t.same((await app.inject('/healthz')).json(), { status: 'ok' })
    const ready = await app.inject('/readyz')
    t.equal(ready.statusCode, 200)
    t.match(ready.json(), { status: 'ok', database: leg, active_kid: app.keys.signer.kid })
  })

  t.test('readiness is 503 when the database is gone', async (t) => {
    await db.close()
    const res = await app.inject('/readyz')
    t.equal(res.statusCode, 503)
    t.same(res.json(), { error: 'unavailable', error_description: 'The database is unreachable.' })
    t.equal((await app.inject('/healthz')).statusCode, 200, 'liveness does not depend on the database')
    const signup = await app.inject({ method: 'POST', url: '/users', payload: { email: 'late@example.com', password: 'long enough' } })
    t.equal(signup.statusCode, 503, 'a request that needs the database: 503, not 500')
    t.equal(signup.json().error, 'unavailable')
    t.equal(signup.headers['retry-after'], '1')
  })
})

t.test('an HTTP/1.1 request without Host: 400 in the JSON shape, not Node’s empty 400', async (t) => {
  const { app } = await build(t, 'pglite')
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const ask = (request: string) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = []
      const socket = connect({ port, host: '127.0.0.1' }, () => socket.end(request))
      socket
        .on('data', (c) => chunks.push(c))
        .on('end', () => resolve(Buffer.concat(chunks).toString()))
        .on('error', reject)
    })
  const [head, body] = (await ask('GET /.well-known/jwks.json HTTP/1.1\r\nConnection: close\r\n\r\n')).split('\r\n\r\n')
  t.match(head, /^HTTP\/1\.1 400 /, '400 (RFC 9112 §3.2)')
  t.match(head, /\r\ncontent-type: application\/json/i)
  t.same(JSON.parse(body!), { error: 'invalid_request', error_description: 'An HTTP/1.1 request needs a Host header (RFC 9112 §3.2).' })
  t.match(await ask('GET /.well-known/jwks.json HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 /, 'HTTP/1.0 has no Host and needs none')
})
