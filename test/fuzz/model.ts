// The fuzzer's request model: what fast-check generates (a compact, printable description of a
// request, with credentials and ids as placeholders known only at run time), the credentials
// those placeholders stand for (World), and how a description becomes the bytes that are sent.
import { Buffer } from 'node:buffer'
import type { App } from '../../src/app.js'
import { decode, makeAdminConsole, makeClient, makeUser, signIn, type TestClient, token as tokenRequest } from '../helpers/factories.js'

/** A value known only at run time: an id, a secret, a credential. */
export class Ph {
  constructor(readonly name: PhName) {}
}
export const PH_NAMES = [
  'userId',
  'adminId',
  'confId',
  'confSecret',
  'pubId',
  'consoleId',
  'consoleSecret',
  'kid',
  'sid',
  'adminSid',
  'email',
  'adminEmail',
  'password',
  'adminAudience',
  'issuer',
] as const
export type PhName = (typeof PH_NAMES)[number]

/** One of the live tokens, used as it is or damaged (`n` picks where). */
export class Tok {
  constructor(
    readonly base: TokBase,
    readonly mutation: TokMutation,
    readonly n: number,
  ) {}
}
export const TOK_BASES = ['user', 'userRefresh', 'admin', 'adminRefresh', 'cc'] as const
export type TokBase = (typeof TOK_BASES)[number]
export const TOK_MUTATIONS = [
  'none',
  'truncate',
  'flip',
  'noSignature',
  'algNone',
  'hs256',
  'unknownKid',
  'kidTraversal',
  'kidObject',
  'payloadEdit',
  'payloadNotJson',
  'headerArray',
  'twoTokens',
  'padded',
  'fourParts',
  'upperCase',
] as const
export type TokMutation = (typeof TOK_MUTATIONS)[number]

/** A long string, spelled out only when sent (so that a counterexample prints short). */
export class Big {
  constructor(
    readonly size: number,
    readonly unit: string,
  ) {}
}

/** Base64 of the concatenated parts (Basic credentials). */
export class B64 {
  constructor(readonly parts: Part[]) {}
}

/** A text fragment: a literal, or one of the above. */
export type Part = string | Ph | Tok | Big | B64

/** A JSON fragment written as it is (numbers JSON.stringify cannot write, broken syntax). */
export class Raw {
  constructor(readonly text: string) {}
}
/** A JSON object as its entries, so that a key may repeat and `__proto__` is an ordinary key. */
export class Obj {
  constructor(readonly entries: [string, Val][]) {}
}
export type Val = null | boolean | number | Part | Raw | Obj | Val[]

/** A form or query pair; `raw` pairs are written unencoded (bad percent-encoding, stray `&`, `=`). `v` null: a key without `=`. */
export interface Pair {
  k: Part
  v: Part | null
  raw: boolean
}

export type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: Val }
  | { kind: 'form'; pairs: Pair[] }
  | { kind: 'text'; text: Part[] }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'utf16'; value: Val; bom: boolean }
  | { kind: 'deep'; depth: number; open: string; close: string; closed: boolean }
  | { kind: 'sized'; bytes: number; unit: string; shape: 'json' | 'form' | 'text'; field: string }

/** One generated request, before its placeholders are filled in. */
export interface Spec {
  /** `METHOD /template` of the route it aims at, or `unknown`. */
  target: string
  method: string
  path: Part[]
  query: Pair[] | null
  queryTail: string
  headers: [string, Part[]][]
  body: Body
}

/** What is sent. */
export interface Concrete {
  method: string
  url: string
  headers: Record<string, string>
  payload: Buffer | undefined
  /** It carried a live credential or id: it may have changed what the World holds. */
  usedCredentials: boolean
}

/** A request over a real socket: its bytes, as parts. */
export class Bytes {
  constructor(readonly bytes: number[]) {}
}
export type RawPart = Part | Bytes
export interface RawSpec {
  kind: string
  chunks: RawPart[]
}

interface Account {
  id: string
  email: string
  password: string
}

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url')

/**
 * The live credentials the placeholders stand for: clients, users and their tokens. Fuzzed
 * requests may spend them (sign a session out, rotate the keys, delete a client, change a
 * password), so `heal` checks them after any request that could have, and makes new ones.
 */
export class World {
  conf!: TestClient
  pub!: TestClient
  console!: TestClient
  user!: Account
  admin!: Account
  tokens: Record<TokBase, string> = { user: '', userRefresh: '', admin: '', adminRefresh: '', cc: '' }
  kid = ''
  heals = 0

  constructor(readonly app: App) {}

  async setup(): Promise<void> {
    this.conf = await makeClient(this.app)
    this.pub = await makeClient(this.app, { name: 'public', public: true, grantTypes: ['password', 'refresh_token'] })
    this.console = await makeAdminConsole(this.app)
    this.user = await makeUser(this.app)
    this.admin = await makeUser(this.app, { role: 'admin' })
    await this.signInUser()
    await this.signInAdmin()
    await this.clientToken()
    this.kid = this.app.keys.signer.kid
  }

  private async signInUser() {
    const t = await signIn(this.app, this.conf, this.user, { scope: 'openid profile read' })
    this.tokens.user = t.access_token
    this.tokens.userRefresh = t.refresh_token!
  }

  private async signInAdmin() {
    const t = await signIn(this.app, this.console, this.admin, { scope: 'admin' })
    this.tokens.admin = t.access_token
    this.tokens.adminRefresh = t.refresh_token!
  }

  private async clientToken() {
    const res = await tokenRequest(this.app, this.conf, { grant_type: 'client_credentials', scope: 'read' })
    if (res.statusCode !== 200) throw new Error(`client_credentials failed: ${res.statusCode} ${res.body}`)
    this.tokens.cc = res.json().access_token
  }

  private async active(client: TestClient, token: string): Promise<boolean> {
    const res = await this.app.inject({
      method: 'POST',
      url: '/introspect',
      headers: { authorization: client.basic, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token }).toString(),
    })
    return res.statusCode === 200 && res.json().active === true
  }

  /** Re-makes whatever a fuzzed request spent. */
  async heal(): Promise<void> {
    const { app } = this
    const stores = app.stores
    let changed = false
    const clientOk = async (c: TestClient) => (await stores.clients.findById(c.id)) !== null
    if (!(await clientOk(this.conf))) {
      this.conf = await makeClient(app)
      changed = true
    }
    if (!(await clientOk(this.pub))) {
      this.pub = await makeClient(app, { name: 'public', public: true, grantTypes: ['password', 'refresh_token'] })
      changed = true
    }
    if (!(await clientOk(this.console))) {
      this.console = await makeAdminConsole(app)
      changed = true
    }
    const userOk = async (a: Account, role: string) => {
      const u = await stores.users.findById(a.id)
      return u !== null && !u.disabledAt && u.role === role
    }
    if (!(await userOk(this.user, 'user'))) {
      this.user = await makeUser(app)
      changed = true
    }
    if (!(await userOk(this.admin, 'admin'))) {
      this.admin = await makeUser(app, { role: 'admin' })
      changed = true
    }
    if (changed || !(await this.active(this.conf, this.tokens.user)) || !(await this.active(this.conf, this.tokens.userRefresh))) {
      await this.signInUser().catch(async () => {
        // The password was changed (POST /me/password), or the client is gone: new ones.
        this.user = await makeUser(app)
        this.conf = await makeClient(app)
        await this.signInUser()
      })
      this.heals++
    }
    if (changed || !(await this.active(this.console, this.tokens.admin)) || !(await this.active(this.console, this.tokens.adminRefresh))) {
      await this.signInAdmin().catch(async () => {
        this.admin = await makeUser(app, { role: 'admin' })
        this.console = await makeAdminConsole(app)
        await this.signInAdmin()
      })
      this.heals++
    }
    if (changed || !(await this.active(this.conf, this.tokens.cc))) await this.clientToken()
    this.kid = app.keys.signer.kid
  }

  ph(name: PhName): string {
    switch (name) {
      case 'userId':
        return this.user.id
      case 'adminId':
        return this.admin.id
      case 'confId':
        return this.conf.id
      case 'confSecret':
        return this.conf.secret!
      case 'pubId':
        return this.pub.id
      case 'consoleId':
        return this.console.id
      case 'consoleSecret':
        return this.console.secret!
      case 'kid':
        return this.kid
      case 'sid':
        return decode(this.tokens.user).payload.sid
      case 'adminSid':
        return decode(this.tokens.admin).payload.sid
      case 'email':
        return this.user.email
      case 'adminEmail':
        return this.admin.email
      case 'password':
        return this.user.password
      case 'adminAudience':
        return `${this.app.config.issuer}/admin`
      case 'issuer':
        return this.app.config.issuer
    }
  }

  tok({ base, mutation, n }: Tok): string {
    const t = this.tokens[base]
    const [h = '', p = '', s = ''] = t.split('.')
    const at = n % t.length
    const header = () => JSON.parse(Buffer.from(h, 'base64url').toString())
    switch (mutation) {
      case 'none':
        return t
      case 'truncate':
        return t.slice(0, at)
      case 'flip': {
        const c = t[at] === 'A' ? 'B' : t[at] === '.' ? '_' : 'A'
        return t.slice(0, at) + c + t.slice(at + 1)
      }
      case 'noSignature':
        return `${h}.${p}.`
      case 'algNone':
        return `${b64url(JSON.stringify({ ...header(), alg: 'none' }))}.${p}.`
      case 'hs256':
        return `${b64url(JSON.stringify({ ...header(), alg: 'HS256' }))}.${p}.${s}`
      case 'unknownKid':
        return `${b64url(JSON.stringify({ ...header(), kid: `x${n}` }))}.${p}.${s}`
      case 'kidTraversal':
        return `${b64url(JSON.stringify({ ...header(), kid: '../../../../etc/passwd\u0000' }))}.${p}.${s}`
      case 'kidObject':
        return `${b64url(JSON.stringify({ ...header(), kid: { $ne: null }, crit: ['exp'], jku: 'http://127.0.0.1:1/jwks' }))}.${p}.${s}`
      case 'payloadEdit': {
        const claims = decode(t).payload
        const edits: Record<string, unknown>[] = [
          { sub: this.admin.id },
          { exp: 1e20 },
          { aud: [claims.aud, `${this.app.config.issuer}/admin`] },
          { scope: 'admin' },
          { exp: 'never' },
          { sid: null },
          { iss: 'https://evil.example' },
          { jti: { $gt: '' } },
        ]
        return `${h}.${b64url(JSON.stringify({ ...claims, ...edits[n % edits.length] }))}.${s}`
      }
      case 'payloadNotJson':
        return `${h}.${b64url(['not json', '\u0000', '[]', 'null', '1e999', '{"exp":', Buffer.from([0xff, 0xfe])][n % 7] as string | Buffer)}.${s}`
      case 'headerArray':
        return `${b64url(['[]', '"RS256"', 'null', '{}', '{"alg":"RS256","typ":"at+jwt","kid":""}', '{"alg":["RS256"]}'][n % 6]!)}.${p}.${s}`
      case 'twoTokens':
        return `${t}${['', ' ', ',', '.'][n % 4]}${t}`
      case 'padded':
        return `${t}${'='.repeat((n % 3) + 1)}`
      case 'fourParts':
        return `${t}.${s}`
      case 'upperCase':
        return t.toUpperCase()
    }
  }

  part(p: Part): string {
    if (typeof p === 'string') return p
    if (p instanceof Ph) return this.ph(p.name)
    if (p instanceof Tok) return this.tok(p)
    if (p instanceof Big) return p.unit.repeat(Math.ceil(p.size / Math.max(1, p.unit.length))).slice(0, p.size)
    return Buffer.from(p.parts.map((x) => this.part(x)).join('')).toString('base64')
  }

  parts(ps: Part[]): string {
    return ps.map((p) => this.part(p)).join('')
  }

  json(v: Val): string {
    if (v === null || typeof v === 'boolean' || typeof v === 'number') return JSON.stringify(v) ?? 'null'
    if (v instanceof Raw) return v.text
    if (v instanceof Obj) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${this.json(x)}`).join(',')}}`
    if (Array.isArray(v)) return `[${v.map((x) => this.json(x)).join(',')}]`
    // JSON.stringify escapes lone surrogates (\ud800), so the text stays valid UTF-8.
    return JSON.stringify(this.part(v))
  }

  pairs(ps: Pair[]): string {
    return ps
      .map(({ k, v, raw }) => {
        const key = raw ? this.part(k) : pct(this.part(k))
        if (v === null) return key
        return `${key}=${raw ? this.part(v) : pct(this.part(v))}`
      })
      .join('&')
  }

  body(b: Body): Buffer | undefined {
    switch (b.kind) {
      case 'none':
        return undefined
      case 'json':
        return Buffer.from(this.json(b.value))
      case 'form':
        return Buffer.from(this.pairs(b.pairs))
      case 'text':
        return Buffer.from(this.parts(b.text))
      case 'bytes':
        return Buffer.from(b.bytes)
      case 'utf16': {
        const text = Buffer.from(this.json(b.value), 'utf16le')
        return b.bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), text]) : text
      }
      case 'deep':
        return Buffer.from(b.open.repeat(b.depth) + (b.closed ? `1${b.close.repeat(b.depth)}` : ''))
      case 'sized': {
        const head = b.shape === 'json' ? `{${JSON.stringify(b.field)}:"` : b.shape === 'form' ? `${b.field}=` : ''
        const tail = b.shape === 'json' ? '"}' : ''
        const room = Math.max(0, b.bytes - Buffer.byteLength(head) - Buffer.byteLength(tail))
        const unit = Buffer.from(b.unit)
        const fill = Buffer.alloc(room, unit.length ? unit : 'a')
        // Whole units only, padded with `a` to the exact size, so multi-byte text stays valid UTF-8.
        const whole = room - (room % Math.max(1, unit.length))
        fill.fill('a', whole)
        return Buffer.concat([Buffer.from(head), fill, Buffer.from(tail)])
      }
    }
  }

  concrete(spec: Spec): Concrete {
    const uses = JSON.stringify(spec, (_k, v) => (v instanceof Ph || v instanceof Tok ? { __live: true } : v)).includes('__live')
    const path = this.parts(spec.path)
    const query = spec.query === null ? '' : `?${this.pairs(spec.query)}`
    const headers: Record<string, string> = {}
    for (const [name, value] of spec.headers) headers[name] = this.parts(value)
    return { method: spec.method, url: path + query + spec.queryTail, headers, payload: this.body(spec.body), usedCredentials: uses }
  }

  raw(spec: RawSpec): Buffer {
    return Buffer.concat(spec.chunks.map((c) => (c instanceof Bytes ? Buffer.from(c.bytes) : Buffer.from(this.part(c), 'latin1'))))
  }
}

/** Percent-encodes every byte but the unreserved ones (RFC 3986 §2.3); a lone surrogate goes as U+FFFD. */
export function pct(s: string): string {
  let out = ''
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte)
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

const clip = (s: string, n = 400) => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars in all)` : s)

/** A request as a person reads it, long values cut. */
export function describe(c: Concrete): string {
  const body = c.payload === undefined ? '(none)' : `${c.payload.length} bytes: ${JSON.stringify(clip(c.payload.toString('utf8')))}`
  const headers = Object.entries(c.headers).map(([k, v]) => `    ${k}: ${JSON.stringify(clip(v, 300))}`)
  return [`  ${c.method} ${JSON.stringify(clip(c.url))}`, ...headers, `  body ${body}`].join('\n')
}

/** A spec as a person reads it: placeholders by name, long strings by size. */
export function describeSpec(spec: Spec | RawSpec): string {
  return clip(
    JSON.stringify(spec, (_k, v) => {
      if (v instanceof Ph) return `<${v.name}>`
      if (v instanceof Tok) return `<token ${v.base} ${v.mutation} ${v.n}>`
      if (v instanceof Big) return `<${v.size} × ${JSON.stringify(v.unit)}>`
      if (v instanceof B64) return { base64: v.parts }
      if (v instanceof Raw) return `<raw ${v.text}>`
      if (v instanceof Obj) return { object: v.entries }
      if (v instanceof Bytes) return `<bytes ${Buffer.from(v.bytes).toString('hex')}>`
      return v
    }),
    4000,
  )
}

export function describeRaw(bytes: Buffer): string {
  return clip(JSON.stringify(bytes.toString('latin1')), 1500)
}
