// Every check of "is this token still good?" agrees: /introspect, the bearer routes (/me,
// /userinfo) and the refresh grant. Two defects once made them disagree: the bearer routes
// ignored a family's absolute end, and every check accepted Tessera's own tokens for 30 s
// past their `exp`.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { frozenClock } from '../helpers/clock.js'
import { decode, makeClient, makeUser, post, signIn, token } from '../helpers/factories.js'

eachLeg(t, async (t, leg) => {
  t.test('an access token of a family past its absolute end is dead everywhere', async (t) => {
    const clock = frozenClock()
    // The family ends after 60 s; its access token would live 15 minutes.
    const { app } = await build(t, leg, { clock, env: { REFRESH_FAMILY_TTL: '60s', ACCESS_TOKEN_TTL: '15m' } })
    const client = await makeClient(app)
    const user = await makeUser(app)
    const s = await signIn(app, client, user)
    const me = () => app.inject({ url: '/me', headers: { authorization: `Bearer ${s.access_token}` } })
    const introspect = async (tok: string) => (await post(app, '/introspect', client, { token: tok })).json()

    t.equal((await me()).statusCode, 200, 'alive while the family is')
    t.equal((await introspect(s.access_token)).active, true)

    clock.advance(61)
    t.ok(decode(s.access_token).payload.exp > clock.now() / 1000, 'the access token itself has not expired')
    t.same(await introspect(s.access_token), { active: false }, '/introspect: inactive')
    const res = await me()
    t.equal(res.statusCode, 401, '/me refuses it too')
    t.equal(res.json().error, 'invalid_token')
    t.equal((await app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${s.access_token}` } })).statusCode, 401, '/userinfo refuses it too')
    const refreshed = await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
    t.equal(refreshed.json().error, 'invalid_grant', 'and the family cannot be refreshed')
  })

  t.test('Tessera honours the exp it set itself, to the second', async (t) => {
    const clock = frozenClock()
    const { app } = await build(t, leg, { clock, env: { ACCESS_TOKEN_TTL: '60s', REFRESH_TOKEN_TTL: '120s' } })
    const client = await makeClient(app)
    const user = await makeUser(app)
    const s = await signIn(app, client, user)
    const { exp } = decode(s.access_token).payload
    const introspect = async (tok: string) => (await post(app, '/introspect', client, { token: tok })).json()
    const userinfo = () => app.inject({ url: '/userinfo', headers: { authorization: `Bearer ${s.access_token}` } })

    clock.set((exp - 1) * 1000)
    t.equal((await introspect(s.access_token)).active, true, 'one second before exp: active')
    t.equal((await userinfo()).statusCode, 200)

    clock.set(exp * 1000)
    t.same(await introspect(s.access_token), { active: false }, 'at exp: inactive (RFC 7519 §4.1.4: not on or after)')
    const res = await userinfo()
    t.equal(res.statusCode, 401, '/userinfo refuses it at exp')
    t.match(res.headers['www-authenticate'], /error="invalid_token"/)

    clock.set((exp + 5) * 1000)
    t.same(await introspect(s.access_token), { active: false }, 'five seconds after exp: inactive (no 30-s grace)')

    // The refresh token too: its exp is the family's idle end.
    const rexp = decode(s.refresh_token!).payload.exp
    clock.set(rexp * 1000)
    t.same(await introspect(s.refresh_token!), { active: false }, 'a refresh token at its exp: inactive')
    const refreshed = await token(app, client, { grant_type: 'refresh_token', refresh_token: s.refresh_token! })
    t.equal(refreshed.statusCode, 400)
    t.equal(refreshed.json().error, 'invalid_grant', 'and it no longer refreshes')
  })
})
