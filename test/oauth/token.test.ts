// POST /token: client authentication, the password and client_credentials grants, and the
// RFC 6749 error for every way a request can be wrong.
import t from 'tap'
import { build, eachLeg } from '../helpers/build.js'
import { decode, makeClient, makeUser, token } from '../helpers/factories.js'

eachLeg(t, async (t, leg) => {
  const { app, db, config } = await build(t, leg)
  const client = await makeClient(app, { audience: 'orders-api' })
  const user = await makeUser(app, { role: 'admin' })

  t.test('password grant: RFC 9068 access token and a refresh token that starts a family', async (t) => {
    const res = await token(
      app,
      client,
      { grant_type: 'password', username: `  ${user.email.toUpperCase()} `, password: user.password, scope: 'read' },
      { 'user-agent': 'phone/1.0' },
    )
    t.equal(res.statusCode, 200)
    t.equal(res.headers['cache-control'], 'no-store')
    t.equal(res.headers.pragma, 'no-cache')
    const body = res.json()
    t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type'])
    t.match(body, { token_type: 'Bearer', expires_in: 900, scope: 'read' })
    const at = decode(body.access_token)
    t.same(at.header, { alg: 'RS256', typ: 'at+jwt', kid: app.keys.signer.kid })
    t.match(at.payload, { iss: config.issuer, sub: user.id, aud: 'orders-api', client_id: client.id, scope: 'read', roles: ['admin'] })
    t.equal(at.payload.exp - at.payload.iat, 900)
    t.match(at.payload.jti, /^[A-Za-z0-9_-]{22}$/)
    const rt = decode(body.refresh_token)
    t.match(rt.header, { alg: 'RS256', typ: 'rt+jwt' })
    t.match(rt.payload, { aud: config.issuer, sub: user.id, client_id: client.id, sid: at.payload.sid })
    const [family] = await db.query<Record<string, unknown>>('SELECT client_id, user_agent, ip, scope FROM refresh_families WHERE id = $1', [at.payload.sid])
    t.match(family, { client_id: client.id, user_agent: 'phone/1.0', ip: '127.0.0.1', scope: 'read' })
  })

  t.test('JSON bodies are accepted as well as forms', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { authorization: client.basic },
      payload: { grant_type: 'password', username: user.email, password: user.password },
    })
    t.equal(res.statusCode, 200)
    t.equal(res.json().scope, 'openid profile read write', 'no scope asked: all the client may have')
  })

  t.test('client_secret_post works; mixing two methods does not', async (t) => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id, client_secret: client.secret! }).toString()
    const ok = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    t.equal(ok.statusCode, 200)
    const both = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.basic },
      body,
    })
    t.equal(both.statusCode, 400)
    t.equal(both.json().error, 'invalid_request')
  })

  t.test('client_credentials: sub is the client, audience as registered, no refresh token', async (t) => {
    const res = await token(app, client, { grant_type: 'client_credentials', scope: 'read', audience: 'orders-api' })
    t.equal(res.statusCode, 200)
    t.notOk('refresh_token' in res.json())
    const at = decode(res.json().access_token).payload
    t.match(at, { sub: client.id, client_id: client.id, aud: 'orders-api', scope: 'read' })
    t.notOk('roles' in at)
    t.notOk('sid' in at)
    const other = await token(app, client, { grant_type: 'client_credentials', audience: 'billing-api' })
    t.equal(other.json().error, 'invalid_request')
  })

  t.test('the RFC 6749 error for each bad request', async (t) => {
    const pub = await makeClient(app, { public: true, grantTypes: ['password', 'refresh_token'] })
    const ccOnly = await makeClient(app, { grantTypes: ['client_credentials'] })
    const wrongSecret = { ...client, secret: 'nope', basic: `Basic ${Buffer.from(`${client.id}:nope`).toString('base64')}` }
    const unknownClient = { id: 'ghost', secret: 'x', basic: `Basic ${Buffer.from('ghost:x').toString('base64')}` }
    const cases: [string, Parameters<typeof token>[1], Record<string, string>, number, string][] = [
      ['no grant_type', client, {}, 400, 'invalid_request'],
      ['unknown grant_type', client, { grant_type: 'urn:magic' }, 400, 'unsupported_grant_type'],
      ['implicit grant (OAuth 2.1 removed it)', client, { grant_type: 'implicit' }, 400, 'unsupported_grant_type'],
      ['authorization_code for a client not registered for it', client, { grant_type: 'authorization_code', code: 'x' }, 400, 'unauthorized_client'],
      ['wrong secret', wrongSecret, { grant_type: 'client_credentials' }, 401, 'invalid_client'],
      ['unknown client', unknownClient, { grant_type: 'client_credentials' }, 401, 'invalid_client'],
      ['grant not allowed for the client', ccOnly, { grant_type: 'password', username: user.email, password: user.password }, 400, 'unauthorized_client'],
      ['public client asking client_credentials', pub, { grant_type: 'client_credentials' }, 400, 'unauthorized_client'],
      ['scope outside the client', client, { grant_type: 'client_credentials', scope: 'read admin' }, 400, 'invalid_scope'],
      ['malformed scope', client, { grant_type: 'client_credentials', scope: 'read "x"' }, 400, 'invalid_request'],
      ['password grant without password', client, { grant_type: 'password', username: user.email }, 400, 'invalid_request'],
      ['wrong password', client, { grant_type: 'password', username: user.email, password: 'wrong-password' }, 400, 'invalid_grant'],
    ]
    for (const [name, c, params, status, error] of cases) {
      const res = await token(app, c, params)
      t.equal(res.statusCode, status, name)
      t.equal(res.json().error, error, name)
      t.type(res.json().error_description, 'string', name)
      if (status === 401) t.match(res.headers['www-authenticate'], /^Basic /, `${name}: WWW-Authenticate`)
    }
  })

  t.test('a confidential client cannot skip its secret by posing as public', async (t) => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.id }).toString()
    const res = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    t.equal(res.statusCode, 401)
    t.equal(res.json().error, 'invalid_client')
  })

  t.test('a public client signs in with client_id only', async (t) => {
    const pub = await makeClient(app, { public: true, grantTypes: ['password', 'refresh_token'] })
    const res = await token(app, pub, { grant_type: 'password', username: user.email, password: user.password })
    t.equal(res.statusCode, 200)
    t.ok(res.json().refresh_token)
  })

  t.test('a parameter sent twice is invalid_request (RFC 6749 §3.2)', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: client.basic },
      body: 'grant_type=client_credentials&scope=read&scope=write',
    })
    t.equal(res.statusCode, 400)
    t.same(res.json(), { error: 'invalid_request', error_description: 'The parameter scope was sent more than once.' })
  })

  t.test('NUL characters (which Postgres text cannot hold) are a 4xx, never a 500', async (t) => {
    const form = (body: string, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body })
    const idNul = await form('grant_type=client_credentials&client_id=%00')
    t.equal(idNul.statusCode, 400)
    t.equal(idNul.json().error, 'invalid_request')
    const userNul = await form(`grant_type=password&username=${encodeURIComponent('a\u0000b@example.com')}&password=x`, { authorization: client.basic })
    t.equal(userNul.statusCode, 400)
    t.equal(userNul.json().error, 'invalid_request')
    const basicNul = await form('grant_type=client_credentials', { authorization: `Basic ${Buffer.from('a\u0000:b').toString('base64')}` })
    t.equal(basicNul.statusCode, 401)
    t.equal(basicNul.json().error, 'invalid_client')
    const revokeNul = await app.inject({
      method: 'POST',
      url: '/revoke',
      headers: { 'content-type': 'application/json', authorization: client.basic },
      payload: { token: 'x\u0000' },
    })
    t.equal(revokeNul.statusCode, 400)
  })

  t.test('content types, sizes and shapes are checked before anything else', async (t) => {
    const text = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'text/plain', authorization: client.basic },
      body: 'grant_type=client_credentials',
    })
    t.equal(text.statusCode, 415)
    t.equal(text.json().error, 'invalid_request')
    const big = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=password&username=${'a'.repeat(20000)}`,
    })
    t.equal(big.statusCode, 413)
    const badJson = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' })
    t.equal(badJson.statusCode, 400)
    t.equal(badJson.json().error, 'invalid_request')
    const array = await app.inject({ method: 'POST', url: '/token', headers: { 'content-type': 'application/json' }, body: '[1,2]' })
    t.equal(array.statusCode, 400)
    const number = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/json', authorization: client.basic },
      body: '{"grant_type":"password","username":1,"password":2}',
    })
    t.equal(number.statusCode, 400)
    t.equal(number.json().error, 'invalid_request')
    const badBasic = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/json', authorization: 'Basic !!!' },
      body: '{"grant_type":"client_credentials"}',
    })
    t.equal(badBasic.statusCode, 401)
  })
})
