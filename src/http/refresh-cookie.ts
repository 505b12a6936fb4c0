// The refresh-token cookie of browser clients (docs/tokens.md#cookie-delivery): HttpOnly,
// SameSite=Strict, Path=/, Secure when the issuer is https. The routes that read or write it
// register @fastify/cookie in their own context.
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Forbidden } from '../oauth/errors.js'

const REFRESH_COOKIE = 'refresh_token'

/**
 * `issuer`'s cookie; `origins` (CORS_ORIGINS) are the other origins whose pages may spend it.
 */
export function refreshCookie(issuer: string, origins: readonly string[] = []) {
  const options = { httpOnly: true, sameSite: 'strict', path: '/', secure: issuer.startsWith('https://') } as const
  // As browsers serialise an Origin header: scheme, lower-case host, a port only when not the default.
  const trusted = new Set([issuer, ...origins].map((o) => new URL(o).origin))
  return {
    read: (req: FastifyRequest): string | undefined => req.cookies[REFRESH_COOKIE],
    set: (reply: FastifyReply, token: string, maxAge: number) => reply.setCookie(REFRESH_COOKIE, token, { ...options, maxAge }),
    clear: (reply: FastifyReply) => reply.clearCookie(REFRESH_COOKIE, options),
    /**
     * For a request that the cookie alone authenticates (a public client, no token in the
     * body): it must come from a page of the issuer's origin or of CORS_ORIGINS. SameSite=Strict
     * keeps other sites from sending the cookie, not other origins of the same site (a sibling
     * subdomain, a user's page); the Origin header tells those apart, and every browser sends
     * it on a cross-origin POST and on every fetch POST. No Origin, or another one: 403.
     */
    assertTrustedOrigin(req: FastifyRequest): void {
      const origin = req.headers.origin
      if (typeof origin === 'string' && trusted.has(origin)) return
      throw new Forbidden(
        "The refresh-token cookie authenticates only requests from this server's own origin or CORS_ORIGINS; this request's Origin is none of them.",
      ).because(`cookie-authenticated request with Origin ${typeof origin === 'string' ? JSON.stringify(origin.slice(0, 200)) : 'absent'}`)
    },
  }
}
