// Logs are pino JSON with request ids, and never carry a secret (README): no password,
// client secret, token, cookie or Authorization header, whatever the request did.
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { loggerOptions } from '../../src/lib/logger.js'
import { testConfig } from '../helpers/build.js'
import { LEGS, openTestDatabase } from '../helpers/db.js'
import { makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'

for (const leg of LEGS)
  t.test(`${leg}: request logs carry ids and no secrets`, async (t) => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean))
        done()
      },
    })
    const db = await openTestDatabase(t, leg)
    const app = await buildApp({ config: testConfig(), db, logger: pino(loggerOptions('trace'), sink) })
    t.teardown(() => app.close())
    await app.ready()

    const client = await makeClient(app)
    const user = await makeUser(app)
    const s = await signIn(app, client, user)
    const cookieClient = await makeClient(app, { public: true, cookieDelivery: true, grantTypes: ['password', 'refresh_token'] })
    const c = await token(app, cookieClient, { grant_type: 'password', username: user.email, password: user.password })
    const cookie = String(c.headers['set-cookie']).split(';')[0]!
    await token(app, cookieClient, { grant_type: 'refresh_token' }, { cookie })
    await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
    await token(app, client, { grant_type: 'password', username: user.email, password: 'wrong-password-xyz' })
    await post(app, '/introspect', client, { token: s.access_token })
    await post(app, '/revoke', client, { token: s.refresh_token! })
    await app.inject({ url: '/me', headers: { authorization: `Bearer ${s.access_token}` } })
    await app.inject({ method: 'POST', url: '/users', payload: { email: 'new@example.com', password: 'sign-up-secret-123' } })
    await app.inject({ method: 'POST', url: '/users', headers: { 'content-type': 'application/json' }, body: '{"password":"broken-json-secret' })

    t.ok(lines.length > 10, 'requests were logged')
    const secrets = [
      user.password,
      'wrong-password-xyz',
      'sign-up-secret-123',
      'broken-json-secret',
      client.secret!,
      s.access_token,
      s.refresh_token!,
      cookie.split('=')[1]!,
      client.basic.split(' ')[1]!,
    ]
    for (const secret of secrets)
      t.notOk(
        lines.some((l) => l.includes(secret)),
        `never logged: ${secret.slice(0, 12)}…`,
      )
    const completed = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request completed')
    t.ok(completed.length > 5)
    for (const l of completed) t.match(l, { reqId: String, res: { statusCode: Number } })
  })
