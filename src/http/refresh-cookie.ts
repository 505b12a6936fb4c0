// The refresh-token cookie of browser clients (docs/tokens.md#cookie-delivery): HttpOnly,
// SameSite=Strict, Path=/, Secure when the issuer is https. The routes that read or write it
// register @fastify/cookie in their own context.
import type { FastifyReply, FastifyRequest } from 'fastify'

const REFRESH_COOKIE = 'refresh_token'

export function refreshCookie(issuer: string) {
  const options = { httpOnly: true, sameSite: 'strict', path: '/', secure: issuer.startsWith('https://') } as const
  return {
    read: (req: FastifyRequest): string | undefined => req.cookies[REFRESH_COOKIE],
    set: (reply: FastifyReply, token: string, maxAge: number) => reply.setCookie(REFRESH_COOKIE, token, { ...options, maxAge }),
    clear: (reply: FastifyReply) => reply.clearCookie(REFRESH_COOKIE, options),
  }
}
