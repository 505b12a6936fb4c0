// OAuth parameters (RFC 6749 §3.1–§3.2): normalised once by oauthParams, then checked by the
// schema of whoever reads them (paramsChecker), every failure an invalid_request naming the parameter.
import t from 'tap'
import Type from 'typebox'
import { ClientCredentialsParams } from '../../src/oauth/grants/client_credentials.js'
import { PasswordParams } from '../../src/oauth/grants/password.js'
import { RefreshTokenParams } from '../../src/oauth/grants/refresh_token.js'
import { oauthParams, paramsChecker } from '../../src/oauth/params.js'
import { rejectsOAuth } from '../helpers/unit.js'

t.test('oauthParams: each parameter as one string', async (t) => {
  const out = oauthParams({ grant_type: 'password', username: 'a@example.com', unknown_thing: 'kept' })
  t.same(
    { ...out },
    { grant_type: 'password', username: 'a@example.com', unknown_thing: 'kept' },
    'unknown parameters pass (RFC 6749 §3.1: ignored, not refused)',
  )
  t.equal(Object.getPrototypeOf(out), null, 'a null-prototype record: no inherited keys answer a lookup')
  t.equal(oauthParams({}).scope, undefined)
  t.equal(oauthParams({}).toString, undefined, 'Object.prototype members are not parameters')
})

t.test('oauthParams: the guards, in code order', async (t) => {
  // [what, body, description]
  const cases: [string, unknown, string][] = [
    ['a string body', 'grant_type=password', 'The body must be a form or a JSON object.'],
    ['a number body', 42, 'The body must be a form or a JSON object.'],
    ['an array body', [['grant_type', 'password']], 'The body must be a form or a JSON object.'],
    ['a parameter sent twice (a form gives an array)', { scope: ['read', 'write'] }, 'The parameter scope was sent more than once.'],
    ['a one-element array is still "more than once"', { audience: ['api'] }, 'The parameter audience was sent more than once.'],
    ['a number', { client_id: 7 }, 'The parameter client_id must be a string.'],
    ['a boolean', { refresh_token: true }, 'The parameter refresh_token must be a string.'],
    ['null', { scope: null }, 'The parameter scope must be a string.'],
    ['an object', { username: { $ne: '' } }, 'The parameter username must be a string.'],
    ['a NUL character', { username: 'a@example.com\u0000admin' }, 'The parameter username contains a NUL character.'],
  ]
  for (const [what, body, description] of cases) await rejectsOAuth(t, () => oauthParams(body), { error: 'invalid_request', description, status: 400 }, what)
})

t.test('oauthParams: an empty value is the parameter omitted; no body is no parameters', async (t) => {
  const out = oauthParams({ grant_type: 'refresh_token', scope: '', refresh_token: 'x' })
  t.notOk('scope' in out, 'scope= is as if scope had not been sent')
  t.equal(out.refresh_token, 'x')
  t.same({ ...oauthParams(undefined) }, {})
  t.same({ ...oauthParams(null) }, {})
  t.equal(oauthParams({ password: ' ' }).password, ' ', 'only the empty string is dropped: a space is a value')
})

t.test('oauthParams: __proto__ is a plain key, never a prototype', async (t) => {
  // JSON.parse makes __proto__ an own property, which a careless copy would turn into a prototype.
  const out = oauthParams(JSON.parse('{"__proto__":"x","grant_type":"password"}'))
  t.same(Object.keys(out), ['__proto__', 'grant_type'])
  t.equal(Object.getPrototypeOf(out), null, 'the record keeps its null prototype')
  t.equal(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, 'x')
  t.equal(({} as Record<string, unknown>).x, undefined, 'Object.prototype untouched')
  await rejectsOAuth(t, () => oauthParams(JSON.parse('{"__proto__":{"isAdmin":"true"}}')), {
    error: 'invalid_request',
    description: 'The parameter __proto__ must be a string.',
  })
  t.equal(({} as Record<string, unknown>).isAdmin, undefined, 'an object under __proto__ pollutes nothing')
})

t.test('paramsChecker: missing required parameters are named', async (t) => {
  const password = paramsChecker(PasswordParams)
  const cases: [Record<string, string>, string][] = [
    [{}, 'username and password are required.'],
    [{ username: 'a@example.com' }, 'password is required.'],
    [{ password: 'pw' }, 'username is required.'],
  ]
  for (const [params, description] of cases)
    await rejectsOAuth(t, () => password(oauthParams(params)), { error: 'invalid_request', description }, JSON.stringify(params))
  // An empty value counts as missing: oauthParams drops it before the check.
  await rejectsOAuth(t, () => password(oauthParams({ username: 'a@example.com', password: '' })), {
    error: 'invalid_request',
    description: 'password is required.',
  })
})

t.test('paramsChecker: a value too long names the parameter', async (t) => {
  const password = paramsChecker(PasswordParams)
  const cases: [Record<string, string>, string][] = [
    [{ username: 'a'.repeat(321), password: 'pw' }, 'The parameter username must not have more than 320 characters.'],
    [{ username: 'a@example.com', password: 'p'.repeat(1025) }, 'The parameter password must not have more than 1024 characters.'],
    [{ username: 'a@example.com', password: 'pw', scope: 's'.repeat(1025) }, 'The parameter scope must not have more than 1024 characters.'],
  ]
  for (const [params, description] of cases) await rejectsOAuth(t, () => password(params), { error: 'invalid_request', description }, description)
  await rejectsOAuth(t, () => paramsChecker(ClientCredentialsParams)({ audience: 'a'.repeat(513) }), {
    error: 'invalid_request',
    description: 'The parameter audience must not have more than 512 characters.',
  })
  // At the limit is fine.
  t.equal(password({ username: 'a'.repeat(320), password: 'p'.repeat(1024) }).username.length, 320)
})

t.test('paramsChecker: a valid set passes through, unknown parameters included', async (t) => {
  const refresh = paramsChecker(RefreshTokenParams)
  t.same({ ...refresh({}) }, {}, 'refresh_token is optional (a cookie client sends it in a cookie)')
  const params = oauthParams({ refresh_token: 'a.b.c', scope: 'read', grant_type: 'refresh_token' })
  t.same({ ...refresh(params) }, { refresh_token: 'a.b.c', scope: 'read', grant_type: 'refresh_token' })
  const strict = paramsChecker(Type.Object({ n: Type.String({ pattern: '^[0-9]+$' }) }))
  const err = await rejectsOAuth(t, () => strict({ n: 'x' }), { error: 'invalid_request' })
  t.match(err?.description, /^The parameter n /, 'any other failure names the parameter too')
})
