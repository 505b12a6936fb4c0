// Security review, finding 3: /introspect answers only the token's own client or, for an access
// token, the resource server it was issued for (RFC 7662 §4: the server decides who may learn
// what about a token). Any other confidential client learns `{"active": false}` and nothing
// else, and a refresh token is its own client's business only.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { makeClient, makeUser, post, signIn, type TestClient, token } from '../helpers/factories.js'

eachLeg(t, async (t, leg) => {
  const { app } = await build(t, leg)
  const user = await makeUser(app)
  // Two everyday applications, each signing users in for the default audience.
  const web = await makeClient(app, { name: 'web' })
  const other = await makeClient(app, { name: 'other' })
  // An application whose users' tokens are for the orders API, and that API itself.
  const shop = await makeClient(app, { name: 'shop', grantTypes: ['password', 'refresh_token'], audience: 'orders-api' })
  const ordersApi = await makeClient(app, { name: 'orders api', grantTypes: ['client_credentials'], audience: 'orders-api' })
  const billingApi = await makeClient(app, { name: 'billing api', grantTypes: ['client_credentials'], audience: 'billing-api' })

  const introspect = async (caller: TestClient, tok: string) => {
    const res = await post(app, '/introspect', caller, { token: tok })
    t.equal(res.statusCode, 200)
    return res.json() as { active: boolean; [k: string]: unknown }
  }

  const webSession = await signIn(app, web, user)
  const shopSession = await signIn(app, shop, user)
  const webMachine = (await token(app, web, { grant_type: 'client_credentials' })).json().access_token as string

  t.test("another client learns nothing about a client's tokens", async (t) => {
    for (const [what, tok] of [
      ['an access token', webSession.access_token],
      ['a refresh token', webSession.refresh_token!],
      ['a client_credentials token', webMachine],
    ] as const) {
      t.same(await introspect(other, tok), { active: false }, `${what} of web, asked by another application: inactive`)
      t.same(await introspect(billingApi, tok), { active: false }, `${what} of web, asked by a resource server of another audience: inactive`)
    }
    t.same(await introspect(other, shopSession.refresh_token!), { active: false }, "shop's refresh token, asked by another application")
  })

  t.test('a client may introspect its own tokens, access and refresh', async (t) => {
    t.match(await introspect(web, webSession.access_token), { active: true, client_id: web.id, token_type: 'Bearer', aud: 'api' })
    t.match(await introspect(web, webSession.refresh_token!), { active: true, client_id: web.id, token_type: 'refresh_token' })
    t.match(await introspect(web, webMachine), { active: true, client_id: web.id, sub: web.id })
    t.match(await introspect(shop, shopSession.refresh_token!), { active: true, client_id: shop.id })
  })

  t.test("a resource server may introspect access tokens for its audience, never the users' refresh tokens", async (t) => {
    t.match(
      await introspect(ordersApi, shopSession.access_token),
      { active: true, client_id: shop.id, aud: 'orders-api', sub: user.id },
      "the orders API introspects a shop user's access token (aud orders-api)",
    )
    t.same(await introspect(ordersApi, shopSession.refresh_token!), { active: false }, "but not the shop's refresh token")
    t.same(await introspect(ordersApi, webSession.access_token), { active: false }, 'nor an access token for another audience (api)')
    t.same(await introspect(billingApi, shopSession.access_token), { active: false }, 'and the billing API not an orders-api token')
  })

  t.test('a client registered without an audience is not the resource server of DEFAULT_AUDIENCE', async (t) => {
    // `other` gets tokens for `api` too, but that does not make it the API: only a client
    // registered with that audience is.
    t.same(await introspect(other, webSession.access_token), { active: false })
    const api = await makeClient(app, { name: 'the api', grantTypes: ['client_credentials'], audience: 'api' })
    t.match(await introspect(api, webSession.access_token), { active: true, aud: 'api' }, 'the client registered with --audience api may')
    t.same(await introspect(api, webSession.refresh_token!), { active: false }, 'but not the refresh token')
  })
})
