// Strict content types (docs/endpoints.md#content-types): the RFC's form encoding and JSON, nothing else.

import { parse } from 'node:querystring'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { InvalidRequest } from '../oauth/errors.js'

/**
 * application/x-www-form-urlencoded. A repeated parameter becomes an array, so that the
 * OAuth routes can refuse it (RFC 6749 §3.1: parameters MUST NOT be included more than once).
 */
function parseForm(body: string): Record<string, string | string[]> {
  // node:querystring does exactly this (arrays for repeats, `+` as space) at a fraction of
  // URLSearchParams' cost; its result has no prototype, so `__proto__` is just a name.
  return parse(body) as Record<string, string | string[]>
}

async function contentTypes(app: FastifyInstance) {
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseForm(body as string))
    } catch {
      done(new InvalidRequest('The form body could not be parsed.'), undefined)
    }
  })
}

export default fp(contentTypes, { name: 'content-types' })
