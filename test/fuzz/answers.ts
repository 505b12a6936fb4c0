// What every answer must be (docs/errors.md): never a 5xx; every error the contract's JSON body
// with the right headers; never HTML (but on the pages, docs/pages.md), a framework's own body or a stack trace. Also a minimal
// HTTP/1.1 client over a raw socket, for requests app.inject cannot express.
import { Buffer } from 'node:buffer'
import { connect } from 'node:net'

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface Problem {
  /** Short and stable: what tells one defect from another. */
  kind: string
  text: string
}

const STACK = /\n\s+at |\bat [\w.<>]+ \(.*:\d+:\d+\)|node_modules|file:\/\/|\/work\/|\.ts:\d+/
const ERROR_KEYS = new Set(['error', 'error_description', 'details'])
const header = (a: Answer, name: string) => {
  const v = a.headers[name]
  return Array.isArray(v) ? v.join(', ') : v
}

/** Tessera's HTML pages (docs/pages.md): there an error is a page that says so, not JSON. */
export const isPage = (url: string): boolean => {
  let path: string
  try {
    // As the router sees it: dot segments resolved (`/x/../signin` is /signin).
    path = new URL(url, 'http://x').pathname
  } catch {
    return false
  }
  return /^\/(?:authorize|signin|signup|consent|forgot-password|reset-password|logout|assets\/)/.test(path)
}

/**
 * Swagger UI at /docs (docs/endpoints.md#openapi): its page (HTML) and its files are successes
 * of a third-party UI, neither Tessera's pages nor JSON; its errors (a file that is not there) are
 * the root context's JSON errors, checked like any other route's.
 */
export const isDocsUi = (url: string): boolean => {
  try {
    return /^\/docs(?:\/|$)/.test(new URL(url, 'http://x').pathname)
  } catch {
    return false
  }
}

/** What a page's answer must be: never a 5xx or a stack; an error a page with its message (role=alert), and the pages' CSP. */
function pageProblems(method: string, a: Answer, add: (kind: string, text: string) => void): void {
  if (STACK.test(a.body)) add('stack trace', 'the body holds what looks like a stack trace or a source path')
  if (a.status < 400) return
  if (!/frame-ancestors 'none'/.test(header(a, 'content-security-policy') ?? '')) add('page without CSP', "an error page without frame-ancestors 'none'")
  if (method !== 'HEAD' && !/role="alert"/.test(a.body)) add('page error without message', 'an error page that does not say what went wrong (role=alert)')
}

export function problemsOf(method: string, a: Answer, url = ''): Problem[] {
  const out: Problem[] = []
  const add = (kind: string, text: string) => out.push({ kind, text })
  const type = header(a, 'content-type') ?? ''
  if (a.status >= 500) add(`status ${a.status}`, `answered ${a.status}`)
  if (isPage(url) && /^text\/(html|css)/i.test(type)) {
    pageProblems(method, a, add)
    return out
  }
  if (isDocsUi(url) && a.status < 400 && /^text\/html/i.test(type)) return out
  if (/html/i.test(type) || /^\s*</.test(a.body)) add('html', `an HTML answer (${type || 'no content-type'})`)
  if (STACK.test(a.body)) add('stack trace', 'the body holds what looks like a stack trace or a source path')
  if (a.status < 400) return out
  if (!/^application\/json(\s*;|$)/i.test(type)) add('error content-type', `an error with content-type ${JSON.stringify(type)}`)
  if (a.status === 401 && !header(a, 'www-authenticate')) add('401 without WWW-Authenticate', 'a 401 without WWW-Authenticate')
  if (a.status === 405 && !header(a, 'allow')) add('405 without Allow', 'a 405 without Allow')
  // A HEAD answer has no body to check.
  if (method === 'HEAD') return out
  let body: unknown
  try {
    body = JSON.parse(a.body)
  } catch {
    add('error body not JSON', 'an error body that is not JSON')
    return out
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    add('error body not an object', 'an error body that is not a JSON object')
    return out
  }
  const o = body as Record<string, unknown>
  const keys = Object.keys(o)
  const extra = keys.filter((k) => !ERROR_KEYS.has(k))
  if (extra.length) add('error body members', `unexpected members ${extra.join(', ')} (a framework's body?)`)
  if (typeof o.error !== 'string' || !/^[a-z_]+$/.test(o.error)) add('error code', `error is ${JSON.stringify(o.error)}`)
  if (typeof o.error_description !== 'string' || o.error_description === '')
    add('error_description', `error_description is ${JSON.stringify(o.error_description)}`)
  if (
    'details' in o &&
    !(Array.isArray(o.details) && o.details.every((d) => typeof d === 'object' && d !== null && typeof d.path === 'string' && typeof d.message === 'string'))
  )
    add('details', `details is ${JSON.stringify(o.details).slice(0, 200)}`)
  return out
}

export type RawResult = { answer: Answer; bytes: number } | { answer: null; reason: string; received: string }

/** Parses the first answer of an HTTP/1.1 byte stream (skipping 1xx answers). */
export function parseAnswer(data: Buffer): Answer | null {
  let rest = data
  for (;;) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) return null
    const head = rest.subarray(0, end).toString('latin1').split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')
    if (!m) return null
    const status = Number(m[1])
    const headers: Record<string, string> = {}
    for (const line of head.slice(1)) {
      const i = line.indexOf(':')
      if (i < 0) continue
      const name = line.slice(0, i).trim().toLowerCase()
      const value = line.slice(i + 1).trim()
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    let body = rest.subarray(end + 4)
    if (status >= 100 && status < 200) {
      rest = body
      continue
    }
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = []
      let at = 0
      for (;;) {
        const eol = body.indexOf('\r\n', at)
        if (eol < 0) break
        const size = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16)
        if (!(size > 0)) break
        parts.push(body.subarray(eol + 2, eol + 2 + size))
        at = eol + 2 + size + 2
      }
      body = Buffer.concat(parts)
    } else if (headers['content-length'] !== undefined) {
      body = body.subarray(0, Number(headers['content-length']))
    }
    return { status, headers, body: body.toString('utf8') }
  }
}

/** Writes the bytes on a new connection and reads until the server closes it. */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<RawResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const socket = connect({ port, host: '127.0.0.1' })
    let done = false
    const finish = (reason: string) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      const data = Buffer.concat(chunks)
      const answer = parseAnswer(data)
      resolve(answer ? { answer, bytes: data.length } : { answer: null, reason, received: data.toString('latin1').slice(0, 300) })
    }
    const timer = setTimeout(() => finish(`no complete answer within ${timeoutMs} ms`), timeoutMs)
    socket.on('data', (c) => chunks.push(c))
    socket.on('end', () => finish('the server closed the connection without an answer'))
    socket.on('close', () => finish('the connection closed without an answer'))
    // The server may answer (431, 413) and close before it has read everything: not an error here.
    socket.on('error', () => {})
    socket.write(bytes)
  })
}
