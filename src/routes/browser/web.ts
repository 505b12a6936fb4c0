// What every hosted page shares (docs/pages.md): its cookies, the CSRF token of its forms, the
// browser session, the device cookie that keeps a lockout from locking out a known browser,
// and rendering with the headers every page carries.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Forbidden } from '../../oauth/errors.js'
import type { Html } from '../../pages/html.js'
import { layout } from '../../pages/layout.js'
import type { BrowserSession } from '../../stores/browser-sessions.js'
import { lockoutKey } from '../../stores/lockouts.js'

/** The pages' Content-Security-Policy: our stylesheet and nothing else; never in a frame. */
export const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"

const DEVICE_TTL = 365 * 24 * 3600

export function web(app: FastifyInstance) {
  const { config, pageSecret, stores, clock } = app
  const secure = config.issuer.startsWith('https://')
  // `__Host-` (RFC 6265bis §4.1.3.2): only this host, Path=/, Secure; no subdomain can set or shadow it.
  const name = (base: string) => (secure ? `__Host-${base}` : base)
  const SESSION = name('tessera_session')
  const CSRF = name('tessera_csrf')
  const DEVICE = name('tessera_device')
  const cookieOptions = { httpOnly: true, sameSite: 'lax', path: '/', secure } as const
  const brand = { name: config.brandName, color: config.brandColor }
  const mac = (what: string) => createHmac('sha256', pageSecret).update(what).digest('base64url')
  const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))
  const cookie = (req: FastifyRequest, n: string): string | undefined => {
    const v = req.cookies[n]
    return typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : undefined
  }
  const issuerOrigin = new URL(config.issuer).origin

  return {
    brand,

    /** Sends a page: HTML, never cached, in no frame, with the strict CSP. */
    render(reply: FastifyReply, status: number, title: string, body: Html): FastifyReply {
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-security-policy', CSP)
        .header('x-frame-options', 'DENY')
        .send(layout(brand, title, body))
    },

    /**
     * The CSRF token for this browser's forms: an HMAC of a random cookie value, so that it
     * cannot be made without the server's key, even by a page that can set cookies on a
     * sibling subdomain (double-submit, signed; OWASP CSRF cheat sheet).
     */
    csrfToken(req: FastifyRequest, reply: FastifyReply): string {
      let value = cookie(req, CSRF)
      if (!value) {
        value = randomBytes(32).toString('base64url')
        reply.setCookie(CSRF, value, cookieOptions)
        // The same request may render the form twice (an error page): keep one value.
        req.cookies[CSRF] = value
      }
      return mac(`csrf:${value}`)
    },

    /** A form post must carry this browser's CSRF token and, when the browser says where it comes from, our origin. */
    checkForm(req: FastifyRequest, body: Record<string, string>): void {
      const origin = req.headers.origin
      if (typeof origin === 'string' && origin !== 'null' && origin !== issuerOrigin) {
        throw new Forbidden('This form was sent from another site.').because(`Origin ${origin.slice(0, 200)}`)
      }
      const value = cookie(req, CSRF)
      const sent = field(body, 'csrf', 200)
      if (!value || !sent || !same(sent, mac(`csrf:${value}`))) {
        throw new Forbidden('This form has expired or was not sent from this site: go back, reload the page and try again.').because('CSRF token')
      }
    },

    /** The browser's live session, of an enabled user, or null. */
    async session(req: FastifyRequest): Promise<BrowserSession | null> {
      const value = cookie(req, SESSION)
      return value ? stores.browserSessions.find(value, new Date(clock.now())) : null
    },

    async startSession(req: FastifyRequest, reply: FastifyReply, userId: string): Promise<BrowserSession> {
      const ua = req.headers['user-agent']
      const { cookie: value, session } = await stores.browserSessions.start({
        userId,
        now: new Date(clock.now()),
        ttlSeconds: config.sessionTtl,
        userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null,
        ip: req.ip ?? null,
      })
      reply.setCookie(SESSION, value, { ...cookieOptions, maxAge: config.sessionTtl })
      return session
    },

    clearSession(reply: FastifyReply): void {
      reply.clearCookie(SESSION, cookieOptions)
    },

    /**
     * The lockout counter a sign-in of `email` from this browser counts against (OWASP's
     * "device cookie"): a browser that signed in to this account before has its own, so that
     * failures from elsewhere do not lock it out; any other browser, the account's.
     */
    lockoutKeyFor(req: FastifyRequest, email: string): string {
      const device = cookie(req, DEVICE)
      const [nonce, signature] = device?.split('.') ?? []
      if (nonce && signature && same(signature, mac(`device:${lockoutKey(email)}:${nonce}`))) return lockoutKey(`device:${nonce}`)
      return lockoutKey(email)
    },

    /** Remembers this browser as one that signed in to `email`. */
    trustDevice(reply: FastifyReply, email: string): void {
      const nonce = randomBytes(16).toString('base64url')
      reply.setCookie(DEVICE, `${nonce}.${mac(`device:${lockoutKey(email)}:${nonce}`)}`, { ...cookieOptions, maxAge: DEVICE_TTL })
    },
  }
}

export type Web = ReturnType<typeof web>

/** One string form field, trimmed of nothing; absent, repeated or too long: undefined. */
export function field(body: unknown, name: string, max = 1024): string | undefined {
  const v = (body as Record<string, unknown> | undefined)?.[name]
  return typeof v === 'string' && v.length <= max && !v.includes('\u0000') ? v : undefined
}

/** A place to go back to after a page: only an /authorize request of ours. */
export function safeReturn(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= 4096 && value.startsWith('/authorize?') && !/[\\\r\n]/.test(value) ? value : undefined
}
