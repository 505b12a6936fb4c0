// Background housekeeping: the denial of a revoked access token is kept only until the token
// would have expired anyway (docs/tokens.md#revocation); then PURGE_INTERVAL's loop deletes it.
import { randomBytes } from 'node:crypto'
import t from 'tap'
import type { Connection } from '../../src/stores/database.js'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { decode, makeClient, makeUser, post, signIn } from '../helpers/factories.js'
import { until } from '../helpers/wait.js'

const denied = async (db: Connection) => (await db.query<{ jti: string }>('SELECT jti FROM revoked_tokens ORDER BY jti')).map((r) => r.jti)

eachLeg(t, async (t, leg) => {
  t.test('the loop, and no loop with PURGE_INTERVAL=0', async (t) => {
    // An instance with PURGE_INTERVAL=0 holds an expired denial while the one with a loop works:
    // the absence of a background purge is shown over the time a 1 s loop takes to run (a
    // condition, below), not over a guessed sleep.
    const idle = await build(t, leg)
    await idle.db.exec(`INSERT INTO revoked_tokens (jti, expires_at) VALUES ('long-gone', now() - interval '1 day')`)

    await t.test('every PURGE_INTERVAL, expired denials go and live ones stay', async (t) => {
      const clock = frozenClock()
      const { app, db } = await build(t, leg, { clock, env: { PURGE_INTERVAL: '1s' } })
      const client = await makeClient(app)
      const user = await makeUser(app)
      const first = await signIn(app, client, user)
      t.equal((await post(app, '/revoke', client, { token: first.access_token })).statusCode, 200)
      clock.advance(600)
      const second = await signIn(app, client, user)
      t.equal((await post(app, '/revoke', client, { token: second.access_token })).statusCode, 200)
      const [a, b] = [decode(first.access_token).payload.jti as string, decode(second.access_token).payload.jti as string]
      t.same(await denied(db), [a, b].sort(), 'both denials are stored')

      clock.advance(301) // the first token (15 min) has expired; the second has 10 min left
      await until('the loop deletes the expired denial, without anyone asking', 15_000, async () => !(await denied(db)).includes(a))
      t.same(await denied(db), [b], 'the live one stays')
      const introspect = (await post(app, '/introspect', client, { token: second.access_token })).json()
      t.same(introspect, { active: false }, 'and its token is still refused')
    })

    await t.test('PURGE_INTERVAL=0 leaves it to the operator', async (t) => {
      // The instance above purged on its own, after this one's denial was written: a loop here
      // would have had as long.
      t.same(await denied(idle.db), ['long-gone'], 'nothing runs in the background')
      t.equal(await idle.app.maintenance.purge(), 1, 'an explicit purge still works')
      t.same(await denied(idle.db), [])
    })
  })

  t.test('an instance purges once at start, even with a long interval', async (t) => {
    const kek = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') }
    const { db } = await build(t, leg, { env: kek }) // migrates the database; PURGE_INTERVAL=0
    await db.exec(`INSERT INTO revoked_tokens (jti, expires_at) VALUES ('long-gone', now() - interval '1 day'), ('still-live', now() + interval '1 day')`)
    await build(t, leg, { db, env: { ...kek, PURGE_INTERVAL: '1d' } })
    await until('the start deletes the expired denial', 15_000, async () => !(await denied(db)).includes('long-gone'))
    t.same(await denied(db), ['still-live'])
  })
})
