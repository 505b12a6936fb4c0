// The hot statements written as raw SQL (user by email, family start, audit record) read and
// write exactly what Prisma reads and writes for the same rows, on both database legs.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { makeClient, makeUser } from '../helpers/factories.js'

eachLeg(t, async (t, leg) => {
  const { app, db } = await build(t, leg)
  const { stores } = app
  const prisma = db.prisma

  t.test('users.findByEmail returns what Prisma returns for the row', async (t) => {
    const user = await makeUser(app, { role: 'admin' })
    await prisma.user.update({ where: { id: user.id }, data: { disabledAt: new Date('2026-01-02T03:04:05.678Z') } })
    const raw = await stores.users.findByEmail(user.email)
    const viaPrisma = await prisma.user.findUnique({
      where: { email: user.email },
      select: { id: true, email: true, passwordHash: true, name: true, role: true, disabledAt: true, createdAt: true },
    })
    t.same(raw, viaPrisma)
    t.equal(raw?.role, 'admin')
    t.ok(raw?.createdAt instanceof Date, 'timestamps come back as Dates')
    t.equal(raw?.disabledAt?.toISOString(), '2026-01-02T03:04:05.678Z')
    t.equal(await stores.users.findByEmail('nobody@example.com'), null)
  })

  t.test('families.start writes a live family at generation 0', async (t) => {
    const user = await makeUser(app)
    const client = await makeClient(app)
    const now = new Date('2026-11-23T10:00:00.123Z')
    const iat = Math.floor(now.getTime() / 1000)
    const id = randomUUID()
    const started = await stores.families.start({
      id,
      userId: user.id,
      clientId: client.id,
      scope: 'read write',
      token: { jti: 'jti-1', kid: 'kid-1', iat, exp: iat + 86400 },
      expiresAt: new Date('2026-12-23T10:00:00.123Z'),
      userAgent: 'curl/8',
      ip: '192.0.2.1',
      now,
    })
    t.same(started, {
      id,
      userId: user.id,
      clientId: client.id,
      scope: 'read write',
      currentJti: 'jti-1',
      currentKid: 'kid-1',
      currentIat: iat,
      currentExp: iat + 86400,
    })
    const row = await stores.families.findById(id)
    t.match(row, {
      id,
      generation: 0,
      previousJti: null,
      rotatedAt: null,
      revokedAt: null,
      revokedReason: null,
      userAgent: 'curl/8',
      ip: '192.0.2.1',
    })
    t.equal(row?.createdAt.toISOString(), now.toISOString())
    t.equal(row?.lastUsedAt.toISOString(), now.toISOString())
    t.equal(row?.expiresAt.toISOString(), '2026-12-23T10:00:00.123Z')
    t.equal(row?.idleExpiresAt.getTime(), (iat + 86400) * 1000, "the idle end is the token's exp")
  })

  t.test("families.start caps the first token's exp at the family's end", async (t) => {
    const user = await makeUser(app)
    const client = await makeClient(app)
    const now = new Date('2026-11-23T10:00:00.000Z')
    const iat = Math.floor(now.getTime() / 1000)
    const end = new Date(now.getTime() + 3600_000 + 500)
    const started = await stores.families.start({
      id: randomUUID(),
      userId: user.id,
      clientId: client.id,
      scope: '',
      token: { jti: 'jti-2', kid: 'kid-1', iat, exp: iat + 86400 },
      expiresAt: end,
      userAgent: null,
      ip: null,
      now,
    })
    t.equal(started.currentExp, iat + 3600, 'the family ends in an hour (and a half second): so does its token, to the second')
    t.equal((await stores.families.findById(started.id))?.idleExpiresAt.getTime(), (iat + 3600) * 1000)
  })

  t.test('audit.record stores details as JSON, NULL when absent, and the given time or now', async (t) => {
    const before = Date.now() - 5_000
    await stores.audit.record({
      type: 'test.with-details',
      actorId: 'a',
      subjectId: 's',
      clientId: 'c',
      ip: '192.0.2.9',
      userAgent: 'ua',
      details: { sid: 'x', n: 1, ok: true, nested: { list: [1, 'two'] } },
    })
    await stores.audit.record({ type: 'test.bare' })
    await stores.audit.record({ type: 'test.dated', at: new Date('2020-05-06T07:08:09.010Z') })
    const [withDetails] = await stores.audit.list({ type: 'test.with-details', limit: 10 })
    t.match(withDetails, { type: 'test.with-details', actorId: 'a', subjectId: 's', clientId: 'c', ip: '192.0.2.9', userAgent: 'ua' })
    t.same(withDetails?.details, { sid: 'x', n: 1, ok: true, nested: { list: [1, 'two'] } }, 'an object, not a JSON string')
    const [bare] = await stores.audit.list({ type: 'test.bare', limit: 10 })
    t.equal(bare?.details, null)
    t.equal(bare?.actorId, null)
    t.ok(bare!.at.getTime() >= before && bare!.at.getTime() <= Date.now() + 5_000, 'defaults to the current time')
    const [dated] = await stores.audit.list({ type: 'test.dated', limit: 10 })
    t.equal(dated?.at.toISOString(), '2020-05-06T07:08:09.010Z')
    const nulls = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM audit_events WHERE type = 'test.bare' AND details IS NULL")
    t.equal(nulls[0]?.n, '1', 'no details is SQL NULL, not JSON null')
  })
})
