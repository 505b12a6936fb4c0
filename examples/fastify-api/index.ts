// A resource-server API in Fastify that trusts Tessera's access tokens (examples/fastify-api/README.md):
// jose's createRemoteJWKSet + jwtVerify check the signature against Tessera's JWKS, `iss`,
// `aud`, `exp` and `typ: at+jwt`; one route also needs a scope and a role; and a token whose
// session (`sid`) or `jti` Tessera's revocation feed lists is refused, the feed being polled
// every few seconds.
//
//   TESSERA_URL=http://localhost:3000 API_AUDIENCE=orders-api \
//   API_CLIENT_ID=… API_CLIENT_SECRET=… npx tsx examples/fastify-api/index.ts
import { pathToFileURL } from 'node:url'
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify'
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose'

export interface ApiOptions {
  /** Tessera's ISSUER: the `iss` of its tokens, and where its JWKS and feed are. */
  issuer: string
  /** The `aud` this API accepts (the audience its clients ask tokens for). */
  audience: string
  /** This API's own confidential client at Tessera, to read the revocation feed. */
  clientId: string
  clientSecret: string
  /** How often to poll GET /revocations; default 5 s. */
  pollIntervalMs?: number
  port?: number
  host?: string
}

interface Claims extends JWTPayload {
  sub: string
  jti: string
  client_id: string
  scope?: string
  roles?: string[]
  sid?: string
}

declare module 'fastify' {
  interface FastifyRequest {
    claims: Claims
  }
}

/**
 * What Tessera's revocation feed lists, kept up to date by polling it with `since` and
 * If-None-Match: an unchanged feed costs Tessera a 304 and us nothing. Each entry is kept until
 * its `exp`, after which every token it could match has expired anyway.
 */
export function revocationList(o: Pick<ApiOptions, 'issuer' | 'clientId' | 'clientSecret' | 'pollIntervalMs'>) {
  const sids = new Map<string, number>()
  const jtis = new Map<string, number>()
  const authorization = `Basic ${Buffer.from(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`).toString('base64')}`
  let cursor: string | undefined
  let etag: string | undefined

  async function poll(): Promise<void> {
    const url = new URL('/revocations', o.issuer)
    if (cursor) url.searchParams.set('since', cursor)
    const res = await fetch(url, { headers: { authorization, ...(etag ? { 'if-none-match': etag } : {}) } })
    if (res.status === 304) return
    if (res.status === 400 && cursor) {
      // A cursor Tessera no longer takes: read the whole feed again.
      cursor = etag = undefined
      return poll()
    }
    if (!res.ok) throw new Error(`GET /revocations answered ${res.status}`)
    const feed = (await res.json()) as { sids: { sid: string; exp: number }[]; jtis: { jti: string; exp: number }[]; cursor: string }
    for (const e of feed.sids) sids.set(e.sid, e.exp)
    for (const e of feed.jtis) jtis.set(e.jti, e.exp)
    cursor = feed.cursor
    etag = res.headers.get('etag') ?? undefined
    const now = Date.now() / 1000
    for (const list of [sids, jtis]) for (const [key, exp] of list) if (exp <= now) list.delete(key)
  }

  let timer: NodeJS.Timeout | undefined
  return {
    /** Reads the whole feed once, then polls it; resolves once the first read is done. */
    async start(): Promise<void> {
      await poll()
      timer = setInterval(() => poll().catch((err) => console.error('revocation feed:', err.message)), o.pollIntervalMs ?? 5000)
    },
    stop: () => clearInterval(timer),
    isRevoked: (c: { sid?: string | undefined; jti?: string | undefined }) =>
      (c.sid !== undefined && sids.has(c.sid)) || (c.jti !== undefined && jtis.has(c.jti)),
  }
}

const unauthorized = (reply: FastifyReply, description: string) =>
  reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ error: 'invalid_token', error_description: description })

/** Builds the Fastify app; `revoked` says whether a token's sid or jti was revoked. */
export function fastifyApi(o: ApiOptions, revoked: ReturnType<typeof revocationList>) {
  // Fetched once, cached, and fetched again when a token names a kid it does not know (rotation).
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', o.issuer))

  async function authenticate(req: FastifyRequest, reply: FastifyReply) {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(req.headers.authorization ?? '')
    if (!match) return unauthorized(reply, 'A bearer token is required.')
    try {
      // RFC 9068 §4: pin the algorithm, the issuer, the audience and typ `at+jwt`.
      const { payload } = await jwtVerify<Claims>(match[1]!, jwks, { issuer: o.issuer, audience: o.audience, algorithms: ['RS256'], typ: 'at+jwt' })
      if (revoked.isRevoked(payload)) return unauthorized(reply, 'The token has been revoked.')
      req.claims = payload
    } catch (err) {
      return unauthorized(reply, (err as { code?: string }).code ?? 'Invalid token.')
    }
  }

  const need = (scope: string, role?: string) => async (req: FastifyRequest, reply: FastifyReply) => {
    // RFC 6750 §3.1: a token without the scope is a 403 insufficient_scope.
    if (!(req.claims.scope ?? '').split(' ').includes(scope))
      return reply.code(403).header('www-authenticate', `Bearer error="insufficient_scope", scope="${scope}"`).send({ error: 'insufficient_scope' })
    if (role !== undefined && !(req.claims.roles ?? []).includes(role))
      return reply.code(403).send({ error: 'forbidden', error_description: `Needs the role ${role}.` })
  }

  const api = Fastify()
  api.decorateRequest('claims', null as unknown as Claims)
  api.get('/api/me', { preHandler: authenticate }, async (req) => ({ sub: req.claims.sub, scope: req.claims.scope, client_id: req.claims.client_id }))
  api.get('/api/reports', { preHandler: [authenticate, need('read', 'admin')] }, async (req) => ({ reports: [], for: req.claims.sub }))
  return api
}

/** Starts the API: reads the revocation feed once, then listens. For tests: `port: 0`. */
export async function startFastifyApi(o: ApiOptions): Promise<{ url: string; close(): Promise<void> }> {
  const revoked = revocationList(o)
  await revoked.start()
  const api = fastifyApi(o, revoked)
  api.addHook('onClose', async () => revoked.stop())
  const url = await api.listen({ port: o.port ?? 4001, host: o.host ?? '127.0.0.1' })
  return { url, close: () => api.close() }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = (name: string, fallback?: string) => {
    const value = process.env[name] ?? fallback
    if (value === undefined) throw new Error(`${name} is not set`)
    return value
  }
  const api = await startFastifyApi({
    issuer: env('TESSERA_URL', 'http://localhost:3000'),
    audience: env('API_AUDIENCE', 'orders-api'),
    clientId: env('API_CLIENT_ID'),
    clientSecret: env('API_CLIENT_SECRET'),
    pollIntervalMs: Number(env('FEED_POLL_MS', '5000')),
    port: Number(env('PORT', '4001')),
  })
  console.log(`fastify-api listening on ${api.url}`)
}
