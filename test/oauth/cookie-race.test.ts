// Browsers refresh in parallel (docs/tokens.md#reuse-leeway): several tabs or API calls
// present one refresh-token cookie at once. A cookie client's reuse leeway defaults to 10 s, so
// every one of them gets the same successor, and an answer that loses a race never clears or
// overwrites a newer cookie. Also the per-client leeway (`--reuse-leeway`) for other clients.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { decode, makeClient, makeUser, type TestClient, token } from '../helpers/factories.js'

/** The refresh_token cookie an answer sets: its whole line and its value, or undefined. */
const setCookie = (header: string | string[] | undefined) => {
  const line = [header ?? []].flat().find((c) => c.startsWith('refresh_token='))
  return line === undefined ? undefined : { line, value: line.split(';')[0]!.slice('refresh_token='.length) }
}

eachLeg(t, async (t, leg) => {
  const clock = frozenClock()
  const { app, db } = await build(t, leg, { clock })
  const origin = new URL(app.config.issuer).origin
  const user = await makeUser(app)
  const browserClient = (r: Parameters<typeof makeClient>[1] = {}) =>
    makeClient(app, { public: true, cookieDelivery: true, grantTypes: ['password', 'refresh_token'], ...r })
  /** Signs in through a cookie client; the cookie's value. */
  const signIn = async (spa: TestClient) => {
    const res = await token(app, spa, { grant_type: 'password', username: user.email, password: user.password })
    const cookie = setCookie(res.headers['set-cookie'])
    if (res.statusCode !== 200 || !cookie) throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`)
    return cookie.value
  }
  /** A refresh that only the cookie authenticates, from a page of the issuer's origin. */
  const refresh = (spa: TestClient, cookie: string) => token(app, spa, { grant_type: 'refresh_token' }, { cookie: `refresh_token=${cookie}`, origin })
  const revokedReason = async (cookie: string) =>
    (await db.query<{ revoked_reason: string | null }>('SELECT revoked_reason FROM refresh_families WHERE id = $1', [decode(cookie).payload.sid]))[0]!
      .revoked_reason

  t.test('ten concurrent refreshes with one cookie: all 200, all the same successor', async (t) => {
    const spa = await browserClient()
    const first = await signIn(spa)
    clock.advance(1)
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(spa, first)))
    t.same(
      answers.map((r) => r.statusCode),
      Array(10).fill(200),
      'every one succeeds',
    )
    const cookies = answers.map((r) => setCookie(r.headers['set-cookie']))
    const successor = cookies[0]?.value
    t.ok(successor, 'the first answer sets a cookie')
    t.not(successor, first, 'a new refresh token')
    t.same(
      cookies.map((c) => c?.value),
      Array(10).fill(successor),
      'every answer sets the same successor',
    )
    for (const c of cookies) t.notMatch(c?.line ?? '', /Max-Age=0|Expires=Thu, 01 Jan 1970/, 'no answer clears the cookie')
    for (const r of answers) t.notOk('refresh_token' in r.json(), 'never in the body')
    t.equal(new Set(answers.map((r) => r.json().access_token)).size, 10, 'each with an access token of its own')
    const [family] = await db.query<{ generation: number; revoked_at: Date | null }>('SELECT generation, revoked_at FROM refresh_families WHERE id = $1', [
      decode(first).payload.sid,
    ])
    t.match(family, { generation: 1, revoked_at: null }, 'rotated exactly once, and live')

    // The successor is the family's one usable token: it rotates on.
    clock.advance(1)
    const next = await refresh(spa, successor!)
    t.equal(next.statusCode, 200)
    const third = setCookie(next.headers['set-cookie'])!.value
    t.not(third, successor)

    // A late answer with the cookie just spent, still within the leeway: the newest cookie again, not an older one.
    const late = await refresh(spa, successor!)
    t.equal(late.statusCode, 200)
    t.equal(setCookie(late.headers['set-cookie'])?.value, third, 'a retry sets the newest cookie, never overwrites it with an older one')

    // Two generations back is reuse: refused, and the refusal sets no cookie at all (nor clears one).
    const stale = await refresh(spa, first)
    t.equal(stale.statusCode, 400)
    t.equal(stale.json().error, 'invalid_grant')
    t.equal(setCookie(stale.headers['set-cookie']), undefined, 'a refused refresh leaves the browser’s cookie alone')
    t.equal(await revokedReason(first), 'reuse_detected')
  })

  t.test('ten concurrent rounds: the race is won once per round, and nobody is signed out', async (t) => {
    const spa = await browserClient()
    let cookie = await signIn(spa)
    for (let round = 0; round < 5; round++) {
      clock.advance(1)
      const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(spa, cookie)))
      t.same(
        answers.map((r) => r.statusCode),
        Array(10).fill(200),
        `round ${round}: all 200`,
      )
      const values = new Set(answers.map((r) => setCookie(r.headers['set-cookie'])?.value))
      t.equal(values.size, 1, `round ${round}: one successor`)
      const [next] = values
      t.not(next, cookie)
      cookie = next!
    }
    t.equal(await revokedReason(cookie), null, 'the family is live')
  })

  t.test('the cookie default is 10 s', async (t) => {
    const spa = await browserClient()
    const first = await signIn(spa)
    const second = setCookie((await refresh(spa, first)).headers['set-cookie'])!.value
    clock.advance(10)
    const retry = await refresh(spa, first)
    t.equal(retry.statusCode, 200, 'at 10 s: the retry is served')
    t.equal(setCookie(retry.headers['set-cookie'])?.value, second)
    const again = setCookie((await refresh(spa, second)).headers['set-cookie'])!.value
    clock.advance(11)
    const late = await refresh(spa, second)
    t.equal(late.json().error, 'invalid_grant', 'at 11 s: reuse')
    t.equal(setCookie(late.headers['set-cookie']), undefined, 'and no cookie is set')
    t.equal(await revokedReason(again), 'reuse_detected')
  })

  t.test('a cookie client registered with --reuse-leeway 0: concurrent refreshes are reuse', async (t) => {
    const strict = await browserClient({ reuseLeeway: 0 })
    const first = await signIn(strict)
    const answers = await Promise.all(Array.from({ length: 3 }, () => refresh(strict, first)))
    t.same(answers.map((r) => r.statusCode).sort(), [200, 400, 400], 'one winner; the others are reuse')
    for (const r of answers.filter((a) => a.statusCode === 400)) t.equal(setCookie(r.headers['set-cookie']), undefined, 'a loser sets no cookie')
    t.equal(await revokedReason(first), 'reuse_detected')
  })

  t.test('a non-cookie client: its own leeway, else REFRESH_REUSE_LEEWAY (0 here)', async (t) => {
    const body = (res: Awaited<ReturnType<typeof token>>) => res.json() as { refresh_token?: string; error?: string }
    const signInBody = async (c: TestClient) =>
      body(await token(app, c, { grant_type: 'password', username: user.email, password: user.password })).refresh_token!
    const refreshBody = (c: TestClient, rt: string) => token(app, c, { grant_type: 'refresh_token', refresh_token: rt })

    const plain = await makeClient(app)
    const rt0 = await signInBody(plain)
    await refreshBody(plain, rt0)
    t.equal(body(await refreshBody(plain, rt0)).error, 'invalid_grant', 'no leeway by default: the retry is reuse at once')

    const lenient = await makeClient(app, { reuseLeeway: 5 })
    const a0 = await signInBody(lenient)
    const a1 = body(await refreshBody(lenient, a0)).refresh_token
    clock.advance(5)
    t.equal(body(await refreshBody(lenient, a0)).refresh_token, a1, 'within its 5 s: the current token again')
    const a2 = body(await refreshBody(lenient, a1!)).refresh_token!
    clock.advance(6)
    t.equal(body(await refreshBody(lenient, a1!)).error, 'invalid_grant', 'past its 5 s: reuse')
    t.equal(await revokedReason(a2), 'reuse_detected')
  })
})
