// What the fuzzer sends: fast-check arbitraries of malformed (and some well-formed) requests
// aimed at the app's own routes, as Specs (model.ts) whose credentials are filled in when sent.
import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import {
  B64,
  Big,
  type Body,
  Bytes,
  Obj,
  type Pair,
  type Part,
  Ph,
  type PhName,
  Raw,
  type RawPart,
  type RawSpec,
  type Spec,
  TOK_BASES,
  TOK_MUTATIONS,
  Tok,
  type Val,
} from './model.js'

export interface Route {
  method: string
  url: string
}

export const BODY_LIMIT = 16 * 1024

const ph = (n: PhName) => new Ph(n)
const tok = (base: (typeof TOK_BASES)[number]) => new Tok(base, 'none', 0)
const b64url = (s: string) => Buffer.from(s).toString('base64url')
const oneOfW = <T>(...items: [number, fc.Arbitrary<T>][]) => fc.oneof(...items.map(([weight, arbitrary]) => ({ weight, arbitrary })))
const pick = <T>(...items: T[]) => fc.constantFrom(...items)

// ---------------------------------------------------------------- strings and values

const UNICODE = [
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 𠜎 🏳️‍🌈', // astral planes, a ZWJ sequence
  'e\u0301\u0301\u0301\u0301', // combining marks
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  '\u202Egnp.exe\u202C', // RTL override
  'مرحبا بالعالم',
  'שלום\u200F',
  '\uD800', // lone surrogates
  '\uDFFF',
  'a\uDBFFb',
  '\uDC00\uD800',
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u001B[31m\u001F\u007F',
  '\r\n\r\nX-Injected: 1',
  '\t\v\f',
  '\u0085\u2028\u2029',
  '\uFEFF',
  '\u200B\u200C\u200D\u2060',
  '\uFFFF\uFFFE\uFFFD',
  '\u{10FFFF}\u{E0041}',
  'İıß ﬃ',
  'A\u030A', // NFD of Å
  'Ａｄｍｉｎ', // full-width
]
const WEIRD = [
  '',
  ' ',
  '   ',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  'NaN',
  '[object Object]',
  "' OR '1'='1",
  '"; DROP TABLE users; --',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe, sent as it is
  '${jndi:ldap://127.0.0.1/a}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '<!DOCTYPE html><html>',
  '../../etc/passwd',
  '%00',
  '%zz',
  '\\u0000',
  '\\',
  '"',
  '__proto__',
  'constructor',
  'admin',
  '*',
  '$where',
]
const BIG_SIZES = [64, 65, 128, 129, 200, 201, 254, 255, 256, 257, 320, 321, 512, 513, 1024, 1025, 8192, 8193, BODY_LIMIT - 20, BODY_LIMIT + 1, 100 * 1024]
const BIG_UNITS = ['a', 'é', '😀', '\u0000', '\uD800', '%', ' ', 'a\u0301', '.']

const big = fc.tuple(pick(...BIG_SIZES), pick(...BIG_UNITS)).map(([n, u]) => new Big(n, u))
const controlText = fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 8 })
const surrogateText = fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 4 })

/** Any text: unicode, control characters, lone surrogates, NUL, long. */
export const fuzzText: fc.Arbitrary<Part> = oneOfW<Part>(
  [4, pick(...UNICODE, ...WEIRD)],
  [2, fc.string({ unit: 'binary', maxLength: 30 })],
  [2, fc.string({ unit: 'grapheme', maxLength: 12 })],
  [2, fc.string({ maxLength: 30 })],
  [1, controlText],
  [1, surrogateText],
  [2, big],
)

const RAW_JSON = [
  '1e400',
  '-1e-400',
  '123456789012345678901234567890',
  '-0',
  '0x10',
  'NaN',
  'Infinity',
  'undefined',
  "'single'",
  '"\\u0000"',
  '"\\ud800"',
  '"\\uDFFF\\uD800"',
  '"\\x41"',
  '01',
  '"a" "b"',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '{"a":1,}',
  '[1,2,]',
  '/* c */ 1',
  '"unterminated',
]

const scalar: fc.Arbitrary<Val> = oneOfW<Val>(
  [3, fuzzText],
  [2, pick<Val>(null, true, false, 0, -1, 1.5, 2 ** 53, Number.MAX_VALUE, -0, 1e-7)],
  [1, fc.double()],
  [1, fc.integer()],
  [1, pick(...RAW_JSON).map((t) => new Raw(t))],
)

const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'role',
  'admin',
  'is_admin',
  'id',
  'password_hash',
  'disabled',
  'scope',
  '',
]

/** A wrong value where a field wants another: wrong JSON types, nested, odd text. */
export const badValue: fc.Arbitrary<Val> = fc.letrec<{ v: Val }>((tie) => ({
  v: oneOfW<Val>(
    [6, scalar],
    [1, fc.array(tie('v'), { maxLength: 3, depthIdentifier: 'bad' })],
    [
      1,
      fc
        .array(fc.tuple(oneOfW<string>([2, pick(...KEYS)], [1, fc.string({ maxLength: 8 })]), tie('v')), { maxLength: 3, depthIdentifier: 'bad' })
        .map((e) => new Obj(e)),
    ],
  ),
})).v

// ---------------------------------------------------------------- fields of each route

const email = (n: number) => `fuzz${n}@example.com`
const fields: Record<string, Record<string, fc.Arbitrary<Val>>> = {
  'POST /token': {
    grant_type: pick<Val>(
      'password',
      'password',
      'refresh_token',
      'refresh_token',
      'client_credentials',
      'authorization_code',
      'PASSWORD',
      'password ',
      'urn:x',
    ),
    client_id: pick<Val>(ph('confId'), ph('pubId'), ph('consoleId'), 'nobody'),
    client_secret: pick<Val>(ph('confSecret'), ph('consoleSecret'), 'wrong'),
    username: pick<Val>(ph('email'), ph('adminEmail'), 'nobody@example.com', ' UPPER@EXAMPLE.COM '),
    password: pick<Val>(ph('password'), ph('password'), 'wrong password', 'correct horse battery\u0000'),
    scope: pick<Val>('openid profile', 'read', 'admin', 'read write openid', 'openid openid', 'unknown', ' ', 'read\tx', '"'),
    refresh_token: fc.constantFrom(...TOK_BASES).map((b) => new Tok(b === 'user' ? 'userRefresh' : b, 'none', 0) as Val),
    audience: pick<Val>(ph('adminAudience'), ph('issuer'), 'orders-api', ''),
  },
  'POST /revoke': {
    token: fc.constantFrom(...TOK_BASES).map((b) => tok(b) as Val),
    token_type_hint: pick<Val>('access_token', 'refresh_token', 'id_token', ''),
    client_id: pick<Val>(ph('confId'), ph('pubId'), 'nobody'),
    client_secret: pick<Val>(ph('confSecret'), 'wrong'),
  },
  'POST /introspect': {
    token: fc.constantFrom(...TOK_BASES).map((b) => tok(b) as Val),
    token_type_hint: pick<Val>('access_token', 'refresh_token', 'x'),
    client_id: pick<Val>(ph('confId'), ph('pubId'), ph('consoleId')),
    client_secret: pick<Val>(ph('confSecret'), ph('consoleSecret'), 'wrong'),
  },
  'POST /users': {
    email: oneOfW<Val>([3, fc.nat().map(email)], [1, pick<Val>(ph('email'), 'not-an-email', 'a@b', ` ${email(0).toUpperCase()} `, `${'a'.repeat(250)}@x.com`)]),
    password: pick<Val>('a long enough password', 'short', 'password', 'correct horse battery'),
    name: pick<Val>('Ada', ' Ada ', null),
  },
  'POST /password/forgot': { email: pick<Val>(ph('email'), 'nobody@example.com', 'x') },
  'POST /password/reset': { token: pick<Val>('0'.repeat(64), 'x'), password: pick<Val>('a long enough password', 'short') },
  'PATCH /me': { name: pick<Val>('Ada Lovelace', ' ', null, '') },
  'POST /me/password': {
    current_password: pick<Val>(ph('password'), 'wrong password'),
    new_password: pick<Val>('another long password', 'short'),
  },
  'PATCH /admin/users/:id': { disabled: pick<Val>(true, false), role: pick<Val>('user', 'admin', 'root'), locked: pick<Val>(false, true) },
  'POST /admin/clients': {
    name: pick<Val>('fuzz client', ' '),
    grant_types: pick<Val>(['password'], ['client_credentials'], ['refresh_token', 'password'], ['authorization_code'], []),
    scopes: pick<Val>(['read'], ['admin'], [], ['a b']),
    audience: pick<Val>('orders-api', ph('issuer'), ''),
    public: pick<Val>(true, false),
    cookie_delivery: pick<Val>(true, false),
  },
  'POST /admin/keys/rotate': { now: pick<Val>(false, false, true) },
}
const FORM_ROUTES = new Set(['POST /token', 'POST /revoke', 'POST /introspect'])

const GENERIC_FIELDS = { a: scalar, email: pick<Val>(ph('email')), token: pick<Val>(tok('user')), id: pick<Val>(ph('userId')) }

/** A JSON object for the route: each known field missing, right or wrong; unknown, prototype and repeated keys. */
function objectBody(route: string): fc.Arbitrary<Obj> {
  const known = fields[route] ?? GENERIC_FIELDS
  const perField = Object.fromEntries(
    Object.entries(known).map(([k, good]) => [k, oneOfW<Val | undefined>([2, fc.constant(undefined)], [5, good], [3, badValue])]),
  ) as Record<string, fc.Arbitrary<Val | undefined>>
  return fc
    .record({
      known: fc.record(perField),
      extra: oneOfW(
        [3, fc.constant([] as [string, Val][])],
        [1, fc.array(fc.tuple(oneOfW([3, pick(...KEYS)], [1, fc.string({ maxLength: 10 })]), badValue), { minLength: 1, maxLength: 3 })],
      ),
      repeat: oneOfW<Val | null>([7, fc.constant(null)], [1, badValue]),
    })
    .map(({ known, extra, repeat }) => {
      const entries = Object.entries(known).filter((e): e is [string, Val] => e[1] !== undefined)
      if (repeat !== null && entries[0]) entries.push([entries[0][0], repeat])
      return new Obj([...entries, ...extra])
    })
}

/** The same fields as a form: every value as text, arrays as repeated keys, null as a bare key. */
function toPairs(o: Obj): Pair[] {
  const out: Pair[] = []
  const text = (v: Val): Part | null =>
    v === null
      ? null
      : typeof v === 'boolean' || typeof v === 'number'
        ? String(v)
        : v instanceof Raw
          ? v.text
          : v instanceof Obj
            ? '[object Object]'
            : (v as Part)
  for (const [k, v] of o.entries) {
    if (Array.isArray(v)) for (const x of v.length ? v : ['']) out.push({ k, v: text(Array.isArray(x) ? '' : x), raw: false })
    else if (v instanceof Obj) for (const [sub, x] of v.entries) out.push({ k: `${k}[${sub}]`, v: text(Array.isArray(x) ? '' : x), raw: false })
    else out.push({ k, v: text(v), raw: false })
  }
  return out
}

const RAW_PAIRS: Pair[] = [
  '%zz',
  '%E0%A4%A',
  '%',
  'a=%',
  '%=%',
  '&&',
  '=',
  '==',
  'a==b',
  '+',
  '%00=%00',
  'a=%00',
  '__proto__=x',
  'constructor[prototype][admin]=1',
  'a[]=1',
  '%2525',
  '%C0%AE',
  '%FF%FE',
  ';',
  'a;b=c',
].map((k) => ({ k, v: null, raw: true }))

function formBody(route: string): fc.Arbitrary<Pair[]> {
  return fc
    .tuple(objectBody(route), fc.subarray(RAW_PAIRS, { maxLength: 2 }), fc.boolean())
    .map(([o, raw, mix]) => (mix && raw.length ? [...toPairs(o), ...raw] : toPairs(o)))
}

const NON_OBJECT_JSON: fc.Arbitrary<Val> = oneOfW<Val>([3, badValue], [1, fc.array(badValue, { maxLength: 3 })], [1, pick<Val>([], [new Obj([])], null, '', 0)])

const TEXT_BODIES: Part[][] = [
  ['<?xml version="1.0"?><token><grant_type>password</grant_type></token>'],
  ['--b\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\npassword\r\n--b--\r\n'],
  ['grant_type=password&username=', ph('email')],
  ['{"email": "', ph('email'), '"'],
  ["{'email': 'x'}"],
  ['\uFEFF{"email":"x@example.com"}'],
  ['{"a":1} {"b":2}'],
  ['{"a":1}\u0000'],
  ['   '],
  [''],
  ['null'],
  ['"just a string"'],
  ['{"a":"\\ud800"}'],
  ['{"a":"\u0000"}'],
  ['{"__proto__":{"isAdmin":true},"email":"x@example.com","password":"a long password"}'],
  ['{"constructor":{"prototype":{"x":1}}}'],
  ['{"email":"a@b.c","email":"d@e.f","password":"a long password","password":1}'],
  ['{"name":"x","name":{"__proto__":1}}'],
]

const BYTES = [
  [0xff, 0xfe, 0xfd],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe0, 0xa4],
  [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d],
  [0x00],
  [0x1f, 0x8b, 0x08, 0x00],
]

const deepBody = fc
  .record({
    depth: pick(100, 1000, 3000, 8000, 10_000, 50_000),
    shape: pick(['[', ']'], ['{"a":', '}'], ['{"__proto__":', '}'], ['{"name":', '}'], ['{"constructor":', '}']),
    closed: fc.boolean(),
  })
  .map(({ depth, shape, closed }): Body => ({ kind: 'deep', depth, open: shape[0]!, close: shape[1]!, closed }))

const sizedBody = (route: string) =>
  fc
    .record({
      bytes: pick(BODY_LIMIT - 1, BODY_LIMIT, BODY_LIMIT + 1, 100 * 1024, 1024 * 1024),
      unit: pick('a', 'é', '😀', '\\u0000'),
      shape: pick<'json' | 'form' | 'text'>('json', 'form', 'text'),
      field: pick(...Object.keys(fields[route] ?? { email: 0 }), 'x'),
    })
    .map((b): Body => ({ kind: 'sized', ...b }))

function bodyFor(route: string, method: string): fc.Arbitrary<Body> {
  const form = FORM_ROUTES.has(route)
  const takesBody = method === 'POST' || method === 'PATCH' || method === 'PUT'
  return oneOfW<Body>(
    [takesBody ? (form ? 15 : 35) : 3, objectBody(route).map((value): Body => ({ kind: 'json', value }))],
    [takesBody ? (form ? 30 : 8) : 2, formBody(route).map((pairs): Body => ({ kind: 'form', pairs }))],
    [takesBody ? 6 : 60, fc.constant<Body>({ kind: 'none' })],
    [5, NON_OBJECT_JSON.map((value): Body => ({ kind: 'json', value }))],
    [4, pick(...TEXT_BODIES).map((text): Body => ({ kind: 'text', text }))],
    [1, pick(...BYTES).map((bytes): Body => ({ kind: 'bytes', bytes }))],
    [1, fc.tuple(objectBody(route), fc.boolean()).map(([value, bom]): Body => ({ kind: 'utf16', value, bom }))],
    [takesBody ? 4 : 1, deepBody],
    [takesBody ? 4 : 1, sizedBody(route)],
  )
}

// ---------------------------------------------------------------- content types

const CONTENT_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'multipart/form-data',
  'multipart/form-data; boundary=b',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'APPLICATION/JSON',
  'application/json;',
  'application/json; x',
  'application/jsonx',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/x-www-form-urlencoded; charset=iso-8859-1',
  'application/octet-stream',
  '',
  ' ',
  '*/*',
  'application/json, text/plain',
  'application',
  '/',
  ';',
  'text/html',
]

const contentTypeFor = (body: Body): fc.Arbitrary<string | null> => {
  const natural = body.kind === 'form' ? 'application/x-www-form-urlencoded' : body.kind === 'none' ? null : 'application/json'
  return oneOfW<string | null>([6, fc.constant(natural)], [3, pick(...CONTENT_TYPES)], [1, fc.constant(null)])
}

// ---------------------------------------------------------------- credentials

const mutatedTok = fc.tuple(pick(...TOK_BASES), pick(...TOK_MUTATIONS), fc.nat({ max: 2000 })).map(([b, m, n]) => new Tok(b, m, n))
const bearer = (t: Part): Part[] => ['Bearer ', t]
const GARBAGE_JWTS = [
  'a.b.c',
  '...',
  'eyJ',
  'eyJhbGciOiJub25lIn0.e30.',
  `${b64url('{"alg":"RS256","kid":"x"}')}.${b64url('{"sub":"x","exp":99999999999}')}.${b64url('sig')}`,
  `${b64url('{"alg":"RS256","typ":"at+jwt"}')}.${b64url('[]')}.AAAA`,
  `${b64url('{"alg":"ES256"}')}.${b64url('{}')}.AAAA`,
  `${b64url('{"alg":"RS256","b64":false,"crit":["b64"]}')}.payload.AAAA`,
  'ey.ey.ey.ey.ey',
  '-_-_.-_-_.-_-_',
  '====',
  'a'.repeat(9000),
]
const garbageBearer: fc.Arbitrary<Part[]> = oneOfW<Part[]>(
  [
    3,
    pick<Part[]>(
      ['Bearer'],
      ['Bearer '],
      ['Bearer  x'],
      ['bearer ', tok('user')],
      ['BEARER ', tok('admin')],
      ['Bearer\t', tok('user')],
      ['Bearer ', tok('user'), ' '],
      ['Bearer ', tok('user'), ' extra'],
      ['Bearer é'],
      ['Bearer "quoted"'],
      ['Bearer ', new Big(10_000, 'a')],
      ['Bearer ', new Big(9000, 'a.')],
      ['Bearer ', tok('user'), ', Bearer ', tok('admin')],
    ),
  ],
  [2, pick(...GARBAGE_JWTS).map((j) => bearer(j))],
  [1, fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }).map((s) => bearer(s))],
)
const basicOf = (...parts: Part[]): Part[] => ['Basic ', new B64(parts)]
const garbageBasic: fc.Arbitrary<Part[]> = pick<Part[]>(
  ['Basic'],
  ['Basic '],
  ['Basic !!!'],
  ['Basic ===='],
  ['Basic Zm9v'],
  ['Basic Zm9v Zm9v'],
  ['Basic ', new Big(20_000, 'QUFB')],
  basicOf(ph('confId')),
  basicOf(ph('confId'), ':wrong'),
  basicOf(ph('confId'), ':'),
  basicOf(ph('confId'), ':', ph('confSecret'), ':extra'),
  basicOf('%zz:%'),
  basicOf('%E0%A4%A:%'),
  basicOf('a\u0000:b'),
  basicOf(ph('confId'), '%00:', ph('confSecret')),
  basicOf(':'),
  basicOf(':', ph('confSecret')),
  basicOf(new Big(300, 'a'), ':x'),
  basicOf(ph('pubId'), ':'),
  basicOf(ph('pubId'), ':x'),
  basicOf('é:é'),
  basicOf('\uD800:\uDFFF'),
  ['basic ', new B64([ph('confId'), ':', ph('confSecret')])],
  ['Basic  ', new B64([ph('confId'), ':', ph('confSecret')])],
  ['Basic ', new B64([ph('confId'), ':', ph('confSecret')]), '!'],
)
const OTHER_SCHEMES = [
  'Digest username="a", realm="tessera", nonce="x", response="y"',
  'Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg',
  'DPoP eyJhbGciOiJFUzI1NiJ9.e30.x',
  'Token abc',
  'AWS4-HMAC-SHA256 Credential=x/y, SignedHeaders=host, Signature=z',
  'MAC id="x", nonce="y", mac="z"',
  'OAuth oauth_token="x"',
  'Bearer,Basic',
  '',
  ' ',
  'null',
]
const otherScheme: fc.Arbitrary<Part[]> = oneOfW<Part[]>([3, pick(...OTHER_SCHEMES).map((s) => [s])], [1, fc.string({ maxLength: 40 }).map((s) => [s])])

const validBasic = pick<Part[]>(
  basicOf(ph('confId'), ':', ph('confSecret')),
  basicOf(ph('confId'), ':', ph('confSecret')),
  basicOf(ph('consoleId'), ':', ph('consoleSecret')),
)
const validBearer = (bases: (typeof TOK_BASES)[number][]) => pick(...bases).map((b) => bearer(tok(b)))

function authFor(route: string): fc.Arbitrary<Part[] | null> {
  const none = fc.constant(null)
  if (FORM_ROUTES.has(route))
    return oneOfW<Part[] | null>([3, none], [7, validBasic], [3, garbageBasic], [1, validBearer(['user', 'cc'])], [1, garbageBearer], [1, otherScheme])
  if (route.includes(' /me') || route.includes(' /userinfo'))
    return oneOfW<Part[] | null>(
      [2, none],
      [8, validBearer(['user', 'user', 'admin', 'cc', 'userRefresh'])],
      [3, mutatedTok.map(bearer)],
      [2, garbageBearer],
      [1, garbageBasic],
      [1, otherScheme],
    )
  if (route.includes(' /admin'))
    return oneOfW<Part[] | null>(
      [2, none],
      [9, validBearer(['admin', 'admin', 'admin', 'user', 'cc', 'adminRefresh'])],
      [3, mutatedTok.map(bearer)],
      [2, garbageBearer],
      [1, garbageBasic],
      [1, otherScheme],
    )
  return oneOfW<Part[] | null>([8, none], [1, validBearer(['user', 'admin'])], [1, mutatedTok.map(bearer)], [1, garbageBasic], [1, otherScheme])
}

// ---------------------------------------------------------------- paths and query strings

const PARAM_TEXT = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E%2F%2E%2E',
  '%00',
  'a%00b',
  '%zz',
  '%E0%A4%A',
  '%',
  '%%',
  '%2F',
  '%252F',
  '%C0%AE',
  '%FF',
  '%F0%9F%98%80',
  '%E2%80%AE',
  '%EF%BB%BF',
  '%ED%A0%80',
  'null',
  'undefined',
  '0',
  '-1',
  '1e3',
  '__proto__',
  'constructor',
  'prototype',
  "'%20OR%201=1--",
  '%20',
  '+',
  '*',
  '$',
  ';',
  ',',
  '~',
  '',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
]
const PARAM_GOOD: Record<string, PhName[]> = {
  '/users/:id/public': ['userId', 'adminId'],
  '/me/sessions/:id': ['sid', 'adminSid'],
  '/admin/users/:id': ['userId', 'adminId'],
  '/admin/clients/:id': ['confId', 'pubId', 'consoleId'],
  '/admin/keys/:kid/retire': ['kid'],
}
const encodeText = (s: string) => Buffer.from(s, 'utf8').toString('hex').replace(/../g, '%$&')

function paramValue(url: string): fc.Arbitrary<Part> {
  const good = PARAM_GOOD[url] ?? ['userId', 'confId']
  return oneOfW<Part>(
    [5, pick(...good).map(ph)],
    [1, pick(...(['userId', 'adminId', 'confId', 'pubId', 'kid', 'sid', 'email'] as PhName[])).map(ph)],
    [2, fc.uuid()],
    [4, pick(...PARAM_TEXT)],
    [2, fc.tuple(pick(64, 65, 128, 129, 256, 257, 512, 513, 1000, 5000), pick('a', '%41', '%C3%A9', '-')).map(([n, u]) => new Big(n * u.length, u))],
    [1, fc.string({ maxLength: 20 }).map(encodeText)],
    [1, fc.string({ unit: 'binary', maxLength: 10 }).map(encodeText)],
    [1, fc.string({ unit: fc.constantFrom('a', '%', 'z', '0', 'E', '/', '.'), maxLength: 12 })],
  )
}

const PATH_MUTATIONS: ((p: Part[]) => Part[])[] = [
  (p) => [...p, '/'],
  (p) => [...p, '//'],
  (p) => ['/.', ...p],
  (p) => ['/x/..', ...p],
  (p) => [...p, '/..'],
  (p) => [...p, '/extra'],
  (p) => [...p, ';x=1'],
  (p) => [...p, '%2F'],
  (p) => [...p, '.json'],
  (p) => [...p, '%00'],
  (p) => [...p, '%zz'],
  (p) => [...p, '/', new Big(10_000, 'a')],
  (p) => [...p, new Big(100_000, '/a')],
  (p) => p.map((x) => (typeof x === 'string' ? x.toUpperCase() : x)),
  (p) => p.map((x) => (typeof x === 'string' ? x.replace(/\//g, '%2F') : x)),
  (p) => p.map((x) => (typeof x === 'string' ? x.replace(/\//g, '/./') : x)),
  (p) => p.map((x) => (typeof x === 'string' ? x.replace(/\//g, '\\') : x)),
]

const UNKNOWN_PATHS = [
  '/',
  '/admin',
  '/admin/',
  '/.well-known',
  '/.well-known/',
  '/.well-known/jwks.json.bak',
  '/openapi.json',
  '/docs',
  '/authorize',
  '/revocations',
  '/metrics',
  '/me/sessions/x/y',
  '/users',
  '/users/',
  '/users//public',
  '/favicon.ico',
  '/%2e%2e/%2e%2e/etc/passwd',
  '/index.html',
  '/admin/keys/x',
  '/admin/keys//retire',
  '/TOKEN',
  '/token/',
  '/healthz/',
  '/healthz%00',
  '/%zz',
  '/%E0%A4%A',
  '/%',
  '/\u00e9',
  '/a?b=%zz',
]

const QUERY_KEYS = ['limit', 'cursor', 'email', 'role', 'disabled', 'type', 'user', 'client', 'since', 'until', 'token', 'grant_type', 'client_id']
const DATES = [
  '2020-01-01T00:00:00.000Z',
  '2020-01-01T00:00:00Z',
  '2020-01-01',
  '-271821-04-20T00:00:00.000Z',
  '+275760-09-13T00:00:00.000Z',
  '0000-01-01T00:00:00Z',
  '-004714-11-23T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2020-02-30T25:61:61Z',
  '2020-13-45T00:00:00Z',
  '2030-01-01T00:00:00+99:99',
  'Tue, 01 Jan 2030 00:00:00 GMT',
  '1e3',
  '',
  'Invalid Date',
]
const cursorValue: fc.Arbitrary<string> = oneOfW<string>(
  [
    3,
    fc
      .tuple(
        pick<Val>('users', 'clients', 'audit', 'x', 1, null),
        pick<Val>(...DATES, 1, null, '0', '9223372036854775807', '9223372036854775808', '-1', '01'),
        pick<Val>('x', '', '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-4fff-bfff-ffffffffffff', 5),
      )
      .chain(([a, b, c]) => pick([a, b, c], [a, b], [a], [a, b, c, c], { a, b }))
      .map((v) => b64url(JSON.stringify(v))),
  ],
  [1, pick('', '!!', 'a', 'x'.repeat(512), 'x'.repeat(513), b64url('not json'), b64url('["users"'), b64url('[]'), b64url('{"__proto__":1}'))],
)
const queryValue: fc.Arbitrary<Part> = oneOfW<Part>(
  [2, pick('1', '50', '200', '0', '201', '-1', '1.5', '1e2', 'abc', '01', ' 1', 'true', 'false', 'TRUE', 'user', 'admin', 'root')],
  [2, pick(...DATES)],
  [2, cursorValue],
  [1, pick<Part>(ph('email'), ph('userId'), ph('confId'), ph('adminEmail'))],
  [3, fuzzText],
)
const queryPairs: fc.Arbitrary<Pair[]> = oneOfW<Pair[]>(
  [
    6,
    fc.array(
      fc.record({
        k: oneOfW<Part>([4, pick(...QUERY_KEYS)], [1, pick(...KEYS)], [1, fuzzText]),
        v: fc.option(queryValue, { freq: 8 }),
        raw: fc.constant(false),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  ],
  // A parameter twice.
  [
    2,
    fc.tuple(pick(...QUERY_KEYS), queryValue, queryValue).map(([k, a, b]) => [
      { k, v: a, raw: false },
      { k, v: b, raw: false },
    ]),
  ],
  [2, fc.subarray(RAW_PAIRS, { minLength: 1, maxLength: 3 })],
  [1, pick(200, 2000).map((n) => Array.from({ length: n }, (_, i) => ({ k: `k${i}`, v: 'v', raw: false }) as Pair))],
  [1, pick(8 * 1024, 64 * 1024).map((n) => [{ k: 'email', v: new Big(n, 'a'), raw: false }] as Pair[])],
)

// ---------------------------------------------------------------- headers

const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 40 })
const extraHeader: fc.Arbitrary<[string, Part[]]> = oneOfW<[string, Part[]]>(
  [
    3,
    pick<Part[]>(
      ['refresh_token=', tok('userRefresh')],
      ['refresh_token=', tok('adminRefresh'), '; refresh_token=', tok('userRefresh')],
      ['refresh_token=%zz'],
      ['refresh_token="unterminated'],
      ['refresh_token=', new Big(8000, 'a')],
      ['__proto__=x; constructor=y'],
      ['=; ;;=='],
      ['refresh_token=é'],
    ).map((v): [string, Part[]] => ['cookie', v]),
  ],
  [
    1,
    pick<Part[]>([ph('issuer')], ['null'], ['http://evil.example'], ['http://localhost:3000/'], ['garbage\u00ff']).map((v): [string, Part[]] => ['origin', v]),
  ],
  [1, pick('text/html', '*/*', 'application/xml', 'text/html;q=1, application/json;q=0').map((v): [string, Part[]] => ['accept', [v]])],
  [1, pick<Part[]>(['*'], ['W/"x"'], ['"a", "b", *'], [new Big(8000, '"x",')]).map((v): [string, Part[]] => ['if-none-match', v])],
  [1, pick<Part[]>(['a b'], ['x'.repeat(200)], ['é']).map((v): [string, Part[]] => ['x-request-id', v])],
  [1, pick<Part[]>([new Big(10_000, 'é')], ['\u00ff\u00fe'], ['Mozilla/5.0']).map((v): [string, Part[]] => ['user-agent', v])],
  [1, pick('garbage', '1.1.1.1, ::1, unknown', '').map((v): [string, Part[]] => ['x-forwarded-for', [v]])],
  [1, pick('gzip', 'br', 'deflate', 'identity', 'x-unknown').map((v): [string, Part[]] => ['content-encoding', [v]])],
  [1, pick('DELETE', 'GET').map((v): [string, Part[]] => ['x-http-method-override', [v]])],
  [1, headerText.map((v): [string, Part[]] => ['x-fuzz', [v]])],
)

// ---------------------------------------------------------------- requests

const STRANGE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH']

const templateParts = (url: string): fc.Arbitrary<Part[]> => {
  const pieces = url.split(/(:[A-Za-z_]+)/).filter((s) => s !== '')
  return fc.tuple(...pieces.map((p) => (p.startsWith(':') ? paramValue(url) : fc.constant<Part>(p)))).map((ps) => ps as Part[])
}

function requestFor(route: Route | null): fc.Arbitrary<Spec> {
  const target = route ? `${route.method} ${route.url}` : 'unknown'
  const path: fc.Arbitrary<Part[]> = route
    ? oneOfW<Part[]>([8, templateParts(route.url)], [2, fc.tuple(templateParts(route.url), pick(...PATH_MUTATIONS)).map(([p, m]) => m(p))])
    : pick(...UNKNOWN_PATHS).map((p) => [p])
  const method = route ? oneOfW([3, fc.constant(route.method)], [1, pick(...STRANGE_METHODS)]) : pick(...STRANGE_METHODS)
  return fc
    .record({
      method,
      path,
      query: oneOfW<Pair[] | null>([2, fc.constant(null)], [1, queryPairs]),
      queryTail: oneOfW([8, fc.constant('')], [1, pick('?', '&', '#frag', '??', '?%')]),
    })
    .chain(({ method, path, query, queryTail }) =>
      fc.record({ body: bodyFor(target, method), auth: authFor(target), extra: fc.array(extraHeader, { maxLength: 2 }) }).chain(({ body, auth, extra }) =>
        contentTypeFor(body).map((ct): Spec => {
          const headers: [string, Part[]][] = []
          if (ct !== null) headers.push(['content-type', [ct]])
          if (auth !== null) headers.push(['authorization', auth])
          headers.push(...extra)
          return { target, method, path, query, queryTail, headers, body }
        }),
      ),
    )
}

/** Requests to every route (and some unknown paths), the route picked uniformly. */
export function requests(routes: Route[]): fc.Arbitrary<Spec> {
  return oneOfW<Spec>([12, fc.constantFrom(...routes).chain((r) => requestFor(r))], [1, requestFor(null)])
}

// ---------------------------------------------------------------- raw HTTP over a socket

const CRLF = '\r\n'
const CLOSE = `Connection: close${CRLF}`
const RAW_TARGET_BITS: RawPart[] = [
  '%zz',
  '%E0%A4%A',
  '%',
  '%%41',
  '%u0041',
  '%00',
  '%C0%AF',
  new Bytes([0xff]),
  new Bytes([0xc0, 0xaf]),
  new Bytes([0xc3, 0xa9]),
  new Bytes([0xed, 0xa0, 0x80]),
  new Bytes([0x01]),
  new Bytes([0x7f]),
  new Bytes([0x00]),
  '\t',
  '"',
  '<>',
  '{}',
  '|',
  '^',
  '`',
  '\\',
]

/** A route's path with one bad bit in it, in the path or the query. */
const rawTarget = (routes: Route[]): fc.Arbitrary<RawPart[]> =>
  fc
    .record({ route: fc.constantFrom(...routes), bit: pick(...RAW_TARGET_BITS), where: pick('param', 'end', 'query-key', 'query-value') })
    .map(({ route, bit, where }) => {
      const url = route.url.replace(/:[A-Za-z_]+/g, 'x')
      if (where === 'param' && route.url.includes(':')) {
        const [a, b] = route.url.split(/:[A-Za-z_]+/, 2)
        return [a!, bit, b ?? '']
      }
      if (where === 'end') return [url, bit]
      if (where === 'query-key') return [url, '?', bit, '=1']
      return [url, '?limit=', bit]
    })

const requestHead = (method: string, target: RawPart[], extra: RawPart[] = []): RawPart[] => [
  method,
  ' ',
  ...target,
  ` HTTP/1.1${CRLF}Host: localhost${CRLF}`,
  ...extra,
  CLOSE,
  CRLF,
]

const methodOf = (r: Route) => r.method

export function rawRequests(routes: Route[]): fc.Arbitrary<RawSpec> {
  const route = fc.constantFrom(...routes)
  const plain = (r: Route) => r.url.replace(/:[A-Za-z_]+/g, 'x')
  const json = '{"email":"x@example.com"}'
  const form = 'grant_type=client_credentials'

  const badTarget = fc.tuple(route, rawTarget(routes)).map(([r, t]): RawSpec => ({ kind: 'bad target', chunks: requestHead(methodOf(r), t) }))

  const duplicates = fc.tuple(route, fc.nat(8)).map(([r, i]): RawSpec => {
    const u = plain(r)
    const auth = ['Authorization: Basic ', new B64([ph('confId'), ':', ph('confSecret')]), CRLF] as RawPart[]
    const userBearer = ['Authorization: Bearer ', tok('user'), CRLF] as RawPart[]
    const variants: RawPart[][] = [
      requestHead(
        'POST',
        [u],
        [`Content-Type: application/json${CRLF}Content-Type: application/x-www-form-urlencoded${CRLF}Content-Length: ${form.length}${CRLF}`],
      ).concat(form),
      requestHead(
        'POST',
        [u],
        [...auth, `Authorization: Basic !!!${CRLF}Content-Type: application/x-www-form-urlencoded${CRLF}Content-Length: ${form.length}${CRLF}`],
      ).concat(form),
      requestHead(methodOf(r), [u], [...userBearer, 'Authorization: Bearer x', CRLF]),
      requestHead('POST', [u], [`Content-Type: application/json${CRLF}Content-Length: ${json.length}${CRLF}Content-Length: ${json.length}${CRLF}`]).concat(
        json,
      ),
      requestHead('POST', [u], [`Content-Type: application/json${CRLF}Content-Length: ${json.length}${CRLF}Content-Length: 3${CRLF}`]).concat(json),
      requestHead(methodOf(r), [u], [`Host: evil.example${CRLF}`]),
      requestHead(methodOf(r), [u], ['Cookie: refresh_token=a', CRLF, 'Cookie: refresh_token=', tok('userRefresh'), CRLF]),
      requestHead('POST', [u], [`Content-Type: application/json${CRLF}Transfer-Encoding: chunked${CRLF}Transfer-Encoding: chunked${CRLF}`]).concat(
        `${json.length.toString(16)}${CRLF}${json}${CRLF}0${CRLF}${CRLF}`,
      ),
      requestHead(methodOf(r), [u], [`X-Request-Id: a${CRLF}X-Request-Id: b${CRLF}`]),
    ]
    return { kind: 'duplicate headers', chunks: variants[i % variants.length]! }
  })

  const malformedHeaders = fc.tuple(route, fc.nat(11)).map(([r, i]): RawSpec => {
    const line = `${methodOf(r)} ${plain(r)} HTTP/1.1${CRLF}Host: localhost${CRLF}`
    const variants: RawPart[][] = [
      [line, `NoColonHere${CRLF}`, CLOSE, CRLF],
      [line, `Bad Name: x${CRLF}`, CLOSE, CRLF],
      [line, `X-A : b${CRLF}`, CLOSE, CRLF],
      [line, `Bad[Name]: x${CRLF}`, CLOSE, CRLF],
      [line, `: novalue${CRLF}`, CLOSE, CRLF],
      [line, `X-A: b${CRLF} folded${CRLF}`, CLOSE, CRLF],
      [line, 'X-A: a', new Bytes([0x00]), `b${CRLF}`, CLOSE, CRLF],
      [line, 'X-A: a', new Bytes([0x01, 0x7f]), `b${CRLF}`, CLOSE, CRLF],
      [`${methodOf(r)} ${plain(r)} HTTP/1.1\nHost: localhost\nConnection: close\n\n`],
      [line, 'X-A: a\rb', CRLF, CLOSE, CRLF],
      [line, 'X-Big: ', new Big(20_000, 'a'), CRLF, CLOSE, CRLF],
      [line, new Big(3000 * 6, 'X-A:\r\n'), CLOSE, CRLF],
    ]
    return { kind: 'malformed headers', chunks: variants[i % variants.length]! }
  })

  const framing = fc.tuple(route, fc.nat(11)).map(([r, i]): RawSpec => {
    const u = plain(r)
    const ct = `Content-Type: application/json${CRLF}`
    const variants: RawPart[][] = [
      requestHead('POST', [u], [ct, `Content-Length: ${json.length}${CRLF}Transfer-Encoding: chunked${CRLF}`]).concat(
        `${json.length.toString(16)}${CRLF}${json}${CRLF}0${CRLF}${CRLF}`,
      ),
      requestHead('POST', [u], [ct, `Transfer-Encoding: chunked${CRLF}`]).concat(`zz${CRLF}${json}${CRLF}0${CRLF}${CRLF}`),
      requestHead('POST', [u], [ct, `Transfer-Encoding: chunked${CRLF}`]).concat(`FFFFFFFFFFFFFFFFFF${CRLF}${json}${CRLF}0${CRLF}${CRLF}`),
      requestHead('POST', [u], [ct, `Transfer-Encoding: chunked${CRLF}`]).concat(`${json.length.toString(16)};ext="x"${CRLF}${json}${CRLF}0${CRLF}${CRLF}`),
      requestHead('POST', [u], [ct, `Transfer-Encoding: gzip${CRLF}`]).concat(json),
      requestHead('POST', [u], [ct, `Transfer-Encoding: chunked, identity${CRLF}`]).concat(`${json.length.toString(16)}${CRLF}${json}${CRLF}0${CRLF}${CRLF}`),
      requestHead('POST', [u], [ct, `Content-Length: -1${CRLF}`]),
      requestHead('POST', [u], [ct, `Content-Length: abc${CRLF}`]),
      requestHead('POST', [u], [ct, `Content-Length: +${json.length}${CRLF}`]).concat(json),
      requestHead('POST', [u], [ct, `Content-Length: 1 2${CRLF}`]),
      requestHead('POST', [u], [ct, `Transfer-Encoding: chunked${CRLF}`]).concat(
        `4001${CRLF}`,
        new Big(0x4001, 'a'),
        `${CRLF}4001${CRLF}`,
        new Big(0x4001, 'a'),
        `${CRLF}0${CRLF}${CRLF}`,
      ),
      requestHead('POST', [u], [ct, `Content-Length: ${BODY_LIMIT * 2}${CRLF}`]).concat(new Big(BODY_LIMIT * 2, 'a')),
    ]
    return { kind: 'body framing', chunks: variants[i % variants.length]! }
  })

  const requestLines = fc.tuple(route, fc.nat(14)).map(([r, i]): RawSpec => {
    const u = plain(r)
    const h = `Host: localhost${CRLF}${CLOSE}${CRLF}`
    const variants: RawPart[][] = [
      [`${methodOf(r).toLowerCase()} ${u} HTTP/1.1${CRLF}${h}`],
      [`FOO ${u} HTTP/1.1${CRLF}${h}`],
      [`PRI * HTTP/2.0${CRLF}${CRLF}SM${CRLF}${CRLF}`],
      [`GET * HTTP/1.1${CRLF}${h}`],
      [`OPTIONS * HTTP/1.1${CRLF}${h}`],
      [`${methodOf(r)} http://localhost${u} HTTP/1.1${CRLF}${h}`],
      [`${methodOf(r)} /${u} HTTP/1.1${CRLF}${h}`],
      [`${methodOf(r)} ${u} HTTP/1.0${CRLF}${CRLF}`],
      [`${methodOf(r)} ${u} HTTP/1.1${CRLF}${CLOSE}${CRLF}`],
      [`${methodOf(r)} ${u} HTTP/9.9${CRLF}${h}`],
      [`${methodOf(r)}  ${u}  HTTP/1.1${CRLF}${h}`],
      [`${CRLF}${CRLF}${methodOf(r)} ${u} HTTP/1.1${CRLF}${h}`],
      [`${methodOf(r)} ${u}?`, new Big(8 * 1024, 'a'), ` HTTP/1.1${CRLF}${h}`],
      [`${methodOf(r)} ${u}?`, new Big(20 * 1024, 'a'), ` HTTP/1.1${CRLF}${h}`],
      [
        `${methodOf(r)} ${u} HTTP/1.1${CRLF}Host: localhost${CRLF}Expect: 100-continue${CRLF}Content-Length: 2${CRLF}Content-Type: application/json${CRLF}${CLOSE}${CRLF}{}`,
      ],
    ]
    return { kind: 'request line', chunks: variants[i % variants.length]! }
  })

  return oneOfW<RawSpec>([4, badTarget], [2, duplicates], [2, malformedHeaders], [2, framing], [2, requestLines])
}
