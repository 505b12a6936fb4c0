// The OAuth endpoints: POST /token (RFC 6749), /revoke (RFC 7009), /introspect (RFC 7662).
// Thin: parse, authenticate the client, hand over to a grant handler or the token service.
import cookie from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { epochSeconds } from '../lib/clock.js'
import { authenticateClient } from '../oauth/client-auth.js'
import { InvalidClient, InvalidRequest, UnauthorizedClient, UnsupportedGrantType } from '../oauth/errors.js'
import type { TokenResult } from '../oauth/grants/types.js'
import { oauthParams } from '../oauth/params.js'
import type { RequestMeta } from '../oauth/tokens/service.js'
import { tokenStatus } from '../oauth/tokens/status.js'
import { TokenRejected, type VerifiedToken, verifyToken } from '../oauth/tokens/verify.js'
import { IntrospectionResponse, TokenResponse } from '../schemas/oauth.js'

export const REFRESH_COOKIE = 'refresh_token'

export const requestMeta = (req: FastifyRequest): RequestMeta => ({
  ip: req.ip ?? null,
  userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 512) : null,
})

export default async function oauthRoutes(app: FastifyInstance) {
  const { config, stores, keys, clock } = app
  // Only these routes read cookies (browser clients' refresh tokens): parse them nowhere else.
  await app.register(cookie)
  const secureCookie = config.issuer.startsWith('https://')

  // RFC 6749 §5.1: token responses (and, harmlessly, every answer here) are never cached.
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    done(null, payload)
  })

  const authenticate = (req: FastifyRequest, params: Record<string, string | undefined>) =>
    authenticateClient(stores.clients, req.headers.authorization, params as Record<string, string>)

  const setRefreshCookie = (reply: FastifyReply, token: string, maxAge: number) =>
    reply.setCookie(REFRESH_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/', secure: secureCookie, maxAge })
  const clearRefreshCookie = (reply: FastifyReply) => reply.clearCookie(REFRESH_COOKIE, { httpOnly: true, sameSite: 'strict', path: '/', secure: secureCookie })

  app.post('/token', { schema: { response: { 200: TokenResponse } } }, async (req, reply) => {
    const params = oauthParams(req.body)
    const grantType = params.grant_type
    if (!grantType) throw new InvalidRequest('grant_type is required.')
    const { client } = await authenticate(req, params)
    const handler = app.grants.get(grantType)
    if (!handler) throw new UnsupportedGrantType(`Unsupported grant_type "${grantType.slice(0, 64)}".`)
    if (!client.grantTypes.includes(grantType)) throw new UnauthorizedClient(`This client may not use the ${grantType} grant.`)
    const result: TokenResult = await handler.handle({ params, client, meta: requestMeta(req), cookieRefreshToken: req.cookies[REFRESH_COOKIE] })
    // SPEC §3: browser clients get the refresh token in an HttpOnly cookie, not in the body.
    if (client.cookieDelivery && result.refresh_token) {
      setRefreshCookie(reply, result.refresh_token, result.refreshExpiresIn ?? config.refreshTokenTtl)
      delete result.refresh_token
    }
    return result
  })

  /** Verifies any of our tokens, or undefined if it is not one (invalid, expired, foreign). */
  function readToken(token: string): VerifiedToken | undefined {
    try {
      return verifyToken(token, ['access', 'refresh'], { keys, issuer: config.issuer, now: epochSeconds(clock) })
    } catch (err) {
      if (err instanceof TokenRejected) return undefined
      throw err
    }
  }

  app.post('/revoke', async (req, reply) => {
    const params = oauthParams(req.body)
    const { client } = await authenticate(req, params)
    const fromCookie = params.token === undefined && client.cookieDelivery ? req.cookies[REFRESH_COOKIE] : undefined
    const token = params.token ?? fromCookie
    if (!token) throw new InvalidRequest('token is required.')
    if (client.cookieDelivery) clearRefreshCookie(reply)
    // RFC 7009 §2.2: an invalid or unknown token is not an error; the answer is 200 either way.
    const verified = readToken(token)
    if (!verified) return reply.code(200).send()
    const { claims } = verified
    // §2.1: the token must have been issued to the client revoking it.
    if (claims.client_id !== client.id) throw new UnauthorizedClient('This token was not issued to this client.')
    const now = new Date(clock.now())
    if (verified.kind === 'refresh') {
      // A refresh token revokes its whole family, and so every access token of it (SPEC §4).
      if (await stores.families.revoke(claims.sid!, 'revoked_by_client', now)) {
        await stores.audit.record({
          type: 'family.revoked',
          subjectId: claims.sub,
          clientId: client.id,
          ...requestMeta(req),
          details: { sid: claims.sid, reason: 'revoked_by_client' },
        })
      }
    } else {
      await stores.revocations.revoke(claims.jti, new Date(claims.exp * 1000))
    }
    return reply.code(200).send()
  })

  app.post('/introspect', { schema: { response: { 200: IntrospectionResponse } } }, async (req) => {
    const params = oauthParams(req.body)
    const { client } = await authenticate(req, params)
    // SPEC §4: introspection is for confidential clients (resource servers) only.
    if (client.public) throw new InvalidClient('Public clients may not introspect tokens.')
    if (!params.token) throw new InvalidRequest('token is required.')
    const verified = readToken(params.token)
    if (!verified || (await tokenStatus(stores, verified, new Date(clock.now()))) !== 'active') return { active: false }
    const c = verified.claims
    return {
      active: true,
      token_type: verified.kind === 'access' ? 'Bearer' : 'refresh_token',
      token_use: verified.kind === 'access' ? 'access_token' : 'refresh_token',
      scope: c.scope,
      client_id: c.client_id,
      sub: c.sub,
      aud: c.aud,
      iss: c.iss,
      exp: c.exp,
      iat: c.iat,
      jti: c.jti,
      sid: c.sid,
      roles: c.roles,
    }
  })
}
