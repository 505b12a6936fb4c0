// A resource-server API in Express that trusts Tessera's access tokens (examples/express-api/README.md):
// express-jwt + jwks-rsa check the signature against Tessera's JWKS, `iss`, `aud`, `exp` and
// `typ: at+jwt`; one route also needs a scope and a role; and a token whose session (`sid`) or
// `jti` Tessera's revocation feed lists is refused, the feed being polled every few seconds.
//
//   TESSERA_URL=http://localhost:3000 API_AUDIENCE=orders-api \
//   API_CLIENT_ID=… API_CLIENT_SECRET=… npx tsx examples/express-api/index.ts
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import express, { type NextFunction, type Response } from 'express'
import { expressjwt, type GetVerificationKey, type Request as JwtRequest, UnauthorizedError } from 'express-jwt'
import jwksRsa from 'jwks-rsa'

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

interface Claims {
  sub: string
  scope?: string
  roles?: string[]
  sid?: string
  jti: string
  client_id: string
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

/** Builds the Express app; `revoked` says whether a token's sid or jti was revoked. */
export function expressApi(o: ApiOptions, revoked: ReturnType<typeof revocationList>) {
  const keys = jwksRsa.expressJwtSecret({ jwksUri: new URL('/.well-known/jwks.json', o.issuer).href, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 })
  // RFC 9068 §4: an access token has `typ: at+jwt`; Tessera's refresh and ID tokens do not.
  const accessTokensOnly: GetVerificationKey = (req, token) => {
    if (token?.header.typ !== 'at+jwt') throw new UnauthorizedError('invalid_token', { message: 'Not an access token.' })
    return (keys as GetVerificationKey)(req, token)
  }
  const authenticate = expressjwt({
    secret: accessTokensOnly,
    issuer: o.issuer,
    audience: o.audience,
    algorithms: ['RS256'],
    isRevoked: (_req, token) => revoked.isRevoked(token?.payload as Claims),
  })
  const need =
    (scope: string, role?: string) =>
    (req: JwtRequest<Claims>, res: Response, next: NextFunction): void => {
      const claims = req.auth!
      // RFC 6750 §3.1: a token without the scope is a 403 insufficient_scope.
      if (!(claims.scope ?? '').split(' ').includes(scope)) {
        res.set('www-authenticate', `Bearer error="insufficient_scope", scope="${scope}"`).status(403).json({ error: 'insufficient_scope' })
        return
      }
      if (role !== undefined && !(claims.roles ?? []).includes(role)) {
        res.status(403).json({ error: 'forbidden', error_description: `Needs the role ${role}.` })
        return
      }
      next()
    }

  const api = express()
  api.get('/api/me', authenticate, (req: JwtRequest<Claims>, res: Response) => {
    res.json({ sub: req.auth!.sub, scope: req.auth!.scope, client_id: req.auth!.client_id })
  })
  api.get('/api/reports', authenticate, need('read', 'admin'), (req: JwtRequest<Claims>, res: Response) => {
    res.json({ reports: [], for: req.auth!.sub })
  })
  api.use((err: unknown, _req: unknown, res: Response, next: NextFunction) => {
    if (err instanceof UnauthorizedError) {
      res.set('www-authenticate', 'Bearer error="invalid_token"').status(401).json({ error: err.code, error_description: err.message })
      return
    }
    next(err)
  })
  return api
}

/** Starts the API: reads the revocation feed once, then listens. For tests: `port: 0`. */
export async function startExpressApi(o: ApiOptions): Promise<{ url: string; close(): Promise<void> }> {
  const revoked = revocationList(o)
  await revoked.start()
  const server: Server = expressApi(o, revoked).listen(o.port ?? 4000, o.host ?? '127.0.0.1')
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        revoked.stop()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = (name: string, fallback?: string) => {
    const value = process.env[name] ?? fallback
    if (value === undefined) throw new Error(`${name} is not set`)
    return value
  }
  const api = await startExpressApi({
    issuer: env('TESSERA_URL', 'http://localhost:3000'),
    audience: env('API_AUDIENCE', 'orders-api'),
    clientId: env('API_CLIENT_ID'),
    clientSecret: env('API_CLIENT_SECRET'),
    pollIntervalMs: Number(env('FEED_POLL_MS', '5000')),
    port: Number(env('PORT', '4000')),
  })
  console.log(`express-api listening on ${api.url}`)
}
