// Request bodies (docs/endpoints.md#content-types): JSON everywhere; forms
// (application/x-www-form-urlencoded) only in the route groups that register them in their own
// context: the OAuth endpoints (RFC 6749 speaks forms) and, later, the HTML pages.
import { parse } from 'node:querystring'
import type { FastifyInstance } from 'fastify'
import sjson from 'secure-json-parse'
import { InvalidRequest } from '../oauth/errors.js'

/**
 * A repeated parameter becomes an array, so that the OAuth routes can refuse it (RFC 6749
 * §3.1: parameters MUST NOT be included more than once).
 */
function parseForm(body: string): Record<string, string | string[]> {
  // node:querystring does exactly this (arrays for repeats, `+` as space) at a fraction of
  // URLSearchParams' cost; its result has no prototype, so `__proto__` is just a name.
  return parse(body) as Record<string, string | string[]>
}

export const FORM = 'application/x-www-form-urlencoded'

export function acceptForms(app: FastifyInstance): void {
  app.addContentTypeParser(FORM, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseForm(body as string))
    } catch {
      done(new InvalidRequest('The form body could not be parsed.'), undefined)
    }
  })
}

/**
 * JSON bodies, parsed as Fastify does (secure-json-parse, refusing `__proto__` and
 * `constructor.prototype`), but a refused key is named like any other unknown field, so that
 * a mass-assignment attempt reads the same whatever the key.
 */
export function jsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(new InvalidRequest('The body is empty; send a JSON object.'), undefined)
    try {
      done(null, sjson.parse(body as string, { protoAction: 'error', constructorAction: 'error' }))
    } catch (err) {
      // secure-json-parse says "forbidden prototype property" for both keys: name the one sent.
      if (/forbidden (prototype|constructor) property/.test((err as Error).message)) {
        const key = /"__proto__"\s*:/.test(body as string) ? '__proto__' : 'constructor'
        return done(new InvalidRequest(`Unknown field "${key}".`), undefined)
      }
      done(new InvalidRequest('The body is not valid JSON.'), undefined)
    }
  })
}
