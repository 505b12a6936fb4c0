// Client authentication (RFC 6749 §2.3): client_secret_basic, client_secret_post, or none for
// public clients; every failure that could tell "no such client" from "wrong secret" is the same
// invalid_client, 401, with WWW-Authenticate: Basic.
import t from 'tap'
import { sha256 } from '../../src/lib/secrets.js'
import { authenticateClient } from '../../src/oauth/client-auth.js'
import type { Client, ClientStore } from '../../src/stores/clients.js'
import { makeClient, rejectsOAuth } from '../helpers/unit.js'

const SECRET = 'p@ss:w+rd é/%'
const confidential = makeClient({ id: 'svc', secretHash: sha256(SECRET) })
const spaced = makeClient({ id: 'my app:1', secretHash: sha256('se cret') })
const publicClient = makeClient({ id: 'spa', public: true, secretHash: null, cookieDelivery: true })
const longId = 'x'.repeat(256)
const long = makeClient({ id: longId, secretHash: sha256('s') })

const lookups: string[] = []
const clients: Pick<ClientStore, 'findById'> = {
  async findById(id) {
    lookups.push(id)
    return [confidential, spaced, publicClient, long].find((c) => c.id === id) ?? null
  },
}

/** Basic credentials as §2.3.1 says: each part form-urlencoded, then base64. */
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
const rawBasic = (decoded: string) => `Basic ${Buffer.from(decoded).toString('base64')}`

const FAILED = { error: 'invalid_client', description: 'Client authentication failed.', status: 401 }
const NOT_BASIC = { error: 'invalid_client', description: 'The Authorization header is not valid Basic credentials.', status: 401 }
const WWW = 'Basic realm="tessera", charset="UTF-8"'

t.test('accepted: each method, for the clients it is for', async (t) => {
  const cases: [string, string | undefined, { client_id?: string; client_secret?: string }, Client, string][] = [
    ['Basic, form-urlencoded id and secret (§2.3.1)', basic('svc', SECRET), {}, confidential, 'client_secret_basic'],
    ['Basic, a colon and a space in the id, encoded', basic('my app:1', 'se cret'), {}, spaced, 'client_secret_basic'],
    ['Basic, + as a space (form encoding)', rawBasic('my+app%3A1:se+cret'), {}, spaced, 'client_secret_basic'],
    ['Basic, the scheme in lower case', basic('svc', SECRET).replace('Basic', 'basic'), {}, confidential, 'client_secret_basic'],
    ['Basic, with a matching client_id in the body', basic('svc', SECRET), { client_id: 'svc' }, confidential, 'client_secret_basic'],
    ['post: client_id and client_secret in the body', undefined, { client_id: 'svc', client_secret: SECRET }, confidential, 'client_secret_post'],
    ['none: a public client names itself', undefined, { client_id: 'spa' }, publicClient, 'none'],
    ['none: a non-Basic Authorization header is not client authentication', 'Bearer abc', { client_id: 'spa' }, publicClient, 'none'],
    ['an id of exactly 256 characters', basic(longId, 's'), {}, long, 'client_secret_basic'],
  ]
  for (const [what, header, params, client, method] of cases) {
    const got = await authenticateClient(clients, header, params)
    t.same({ id: got.client.id, method: got.method }, { id: client.id, method }, what)
  }
})

t.test('refused, in code order', async (t) => {
  const cases: [string, string | undefined, { client_id?: string; client_secret?: string }, { error: string; description: string; status: number }][] = [
    // §2.3: one method per request.
    [
      'Basic and client_secret at once',
      basic('svc', SECRET),
      { client_secret: SECRET },
      { error: 'invalid_request', description: 'Use one client authentication method, not two.', status: 400 },
    ],
    // parseBasic
    ['Basic, not base64', 'Basic !!!not-base64!!!', {}, NOT_BASIC],
    ['Basic, no credentials at all', 'Basic ', {}, NOT_BASIC],
    ['Basic, no colon', rawBasic('svc'), {}, NOT_BASIC],
    ['Basic, a bad percent-escape', rawBasic('svc:%E0%A4%A'), {}, NOT_BASIC],
    ['Basic, an encoded NUL in the id', rawBasic('svc%00:x'), {}, NOT_BASIC],
    ['Basic, a raw NUL in the secret', rawBasic('svc:a\u0000b'), {}, NOT_BASIC],
    [
      'Basic, client_id in the body naming another client',
      basic('svc', SECRET),
      { client_id: 'spa' },
      { error: 'invalid_request', description: 'client_id does not match the Authorization header.', status: 400 },
    ],
    // id
    ['nothing at all', undefined, {}, { error: 'invalid_client', description: 'Client authentication is required.', status: 401 }],
    [
      'a secret but no client_id',
      undefined,
      { client_secret: SECRET },
      { error: 'invalid_client', description: 'Client authentication is required.', status: 401 },
    ],
    ['Basic with an empty id', rawBasic(':secret'), {}, { error: 'invalid_client', description: 'Client authentication is required.', status: 401 }],
    ['an id over 256 characters', undefined, { client_id: 'x'.repeat(257), client_secret: 's' }, FAILED],
    // none
    ['none: an unknown client', undefined, { client_id: 'nobody' }, FAILED],
    [
      'none: a confidential client posing as public',
      undefined,
      { client_id: 'svc' },
      { error: 'invalid_client', description: 'This client must authenticate with its secret.', status: 401 },
    ],
    // secret
    ['Basic: an unknown client', basic('nobody', SECRET), {}, FAILED],
    ['Basic: a wrong secret', basic('svc', 'wrong'), {}, FAILED],
    ['post: an unknown client', undefined, { client_id: 'nobody', client_secret: SECRET }, FAILED],
    ['post: a wrong secret', undefined, { client_id: 'svc', client_secret: 'wrong' }, FAILED],
    ['post: the secret of another client', undefined, { client_id: 'my app:1', client_secret: SECRET }, FAILED],
    ['post: the secret with different case', undefined, { client_id: 'svc', client_secret: SECRET.toUpperCase() }, FAILED],
    ['a public client sending a secret (post)', undefined, { client_id: 'spa', client_secret: 'anything' }, FAILED],
    ['a public client sending a secret (Basic)', basic('spa', 'anything'), {}, FAILED],
    ['a public client sending an empty Basic secret', basic('spa', ''), {}, FAILED],
    // The dummy compared against for unknown clients must never be a way in.
    ['an unknown client with the dummy secret', undefined, { client_id: 'nobody', client_secret: 'tessera-no-such-client' }, FAILED],
    ['a public client with the dummy secret', undefined, { client_id: 'spa', client_secret: 'tessera-no-such-client' }, FAILED],
  ]
  for (const [what, header, params, want] of cases) {
    const err = await rejectsOAuth(t, authenticateClient(clients, header, params), want, what)
    if (want.error === 'invalid_client') t.equal(err?.headers['www-authenticate'], WWW, `${what}: WWW-Authenticate: Basic`)
    else t.same(err?.headers, {}, `${what}: a 400 carries no challenge`)
  }
})

t.test('unknown client and wrong secret are one answer', async (t) => {
  const unknown = await rejectsOAuth(t, authenticateClient(clients, basic('nobody', SECRET), {}), FAILED, 'unknown')
  const wrong = await rejectsOAuth(t, authenticateClient(clients, basic('svc', 'nope'), {}), FAILED, 'wrong secret')
  const none = await rejectsOAuth(t, authenticateClient(clients, undefined, { client_id: 'nobody' }), FAILED, 'unknown, no secret')
  t.same(unknown?.toJSON(), wrong?.toJSON(), 'same body')
  t.same(unknown?.headers, wrong?.headers, 'same headers')
  t.same(none?.toJSON(), wrong?.toJSON(), 'same body without a secret')
})

t.test('an id over 256 characters is refused before any lookup', async (t) => {
  lookups.length = 0
  await rejectsOAuth(t, authenticateClient(clients, basic('y'.repeat(257), 's'), {}), FAILED)
  t.same(lookups, [], 'the store was not asked')
  await authenticateClient(clients, basic(longId, 's'), {})
  t.same(lookups, [longId], '256 is still looked up')
})
