// Drives Tessera's hosted pages with app.inject, as a browser without JavaScript would: a cookie
// jar, the forms' hidden fields (csrf, return_to), and 303s followed while they stay on Tessera.
import { createHash, randomBytes } from 'node:crypto'
import type { LightMyRequestResponse } from 'fastify'
import type { App } from '../../src/app.js'

export type Res = LightMyRequestResponse

/** A PKCE pair (RFC 7636 §4.1–4.2): a verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

const unescapeHtml = (s: string) =>
  s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')

/** The value of the input named `name` in a page, unescaped; undefined if the page has none. */
export function inputValue(body: string, name: string): string | undefined {
  const tag = new RegExp(`<input[^>]*\\bname="${name}"[^>]*>`).exec(body)?.[0]
  const value = tag && /\bvalue="([^"]*)"/.exec(tag)?.[1]
  return value === undefined ? undefined : unescapeHtml(value)
}

/** One browser: its cookies, sent with each request and updated from each answer. */
export class PageBrowser {
  readonly jar = new Map<string, string>()

  constructor(
    readonly app: App,
    readonly headers: Record<string, string> = {},
  ) {}

  get cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  #store(res: Res): void {
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const gone = c.value === '' || c.maxAge === 0 || (c.expires !== undefined && c.expires.getTime() <= Date.now())
      if (gone) this.jar.delete(c.name)
      else this.jar.set(c.name, c.value)
    }
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Res> {
    const res = await this.app.inject({ method: 'GET', url, headers: { ...this.headers, cookie: this.cookieHeader, ...headers } })
    this.#store(res)
    return res
  }

  async post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Res> {
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: { ...this.headers, cookie: this.cookieHeader, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: new URLSearchParams(form).toString(),
    })
    this.#store(res)
    return res
  }

  /** Follows 30x answers while they lead to Tessera itself (a path); returns the first other answer. */
  async follow(res: Res, max = 10): Promise<Res> {
    let current = res
    for (let i = 0; i < max; i++) {
      const to = current.headers.location
      if (current.statusCode < 300 || current.statusCode >= 400 || typeof to !== 'string' || !to.startsWith('/')) return current
      current = await this.get(to)
    }
    throw new Error(`more than ${max} redirects`)
  }

  /** GET `url`, then its redirects within Tessera. */
  async visit(url: string): Promise<Res> {
    return this.follow(await this.get(url))
  }

  /** Submits the page's form to `action` with its csrf and return_to and `fields`, then follows. */
  async submit(page: Res, action: string, fields: Record<string, string>): Promise<Res> {
    const csrf = inputValue(page.body, 'csrf')
    if (csrf === undefined) throw new Error(`no csrf field on the page (${page.statusCode}): ${page.body.slice(0, 500)}`)
    const returnTo = inputValue(page.body, 'return_to')
    return this.follow(await this.post(action, { csrf, ...(returnTo !== undefined ? { return_to: returnTo } : {}), ...fields }))
  }

  /** On the sign-in page: signs in, and follows on. */
  signIn(page: Res, user: { email: string; password: string }): Promise<Res> {
    return this.submit(page, '/signin', { email: user.email, password: user.password })
  }

  /** On the consent page: allows (or denies), and follows on. */
  consent(page: Res, decision: 'allow' | 'deny' = 'allow'): Promise<Res> {
    return this.submit(page, '/consent', { decision })
  }
}

/** Which page an answer is: the path it redirects to within Tessera, or the form it shows. */
export function pageOf(res: Res): 'signin' | 'consent' | 'redirect' | 'other' {
  if (res.statusCode >= 300 && res.statusCode < 400) return 'redirect'
  if (res.body.includes('action="/signin"')) return 'signin'
  if (res.body.includes('action="/consent"')) return 'consent'
  return 'other'
}

/** The query of an answer's redirect to the client (its Location), as an object. */
export function redirectParams(res: Res): Record<string, string> {
  const to = res.headers.location
  if (typeof to !== 'string') throw new Error(`not a redirect: ${res.statusCode} ${res.body.slice(0, 300)}`)
  return Object.fromEntries(new URL(to).searchParams)
}

/** An /authorize URL for `params`. */
export const authorizeUrl = (params: Record<string, string | undefined>) =>
  `/authorize?${new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined))}`
