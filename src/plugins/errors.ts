// Every failure leaves as the contract's JSON error (SPEC §2): validation, content type, body
// size, unknown routes, wrong methods, a missing database, and bugs (logged, never shown).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isDatabaseUnavailable, isInvalidText } from '../lib/db-errors.js'
import {
  InvalidRequest,
  MethodNotAllowed,
  NotFound,
  OAuthError,
  PayloadTooLarge,
  RateLimited,
  ServerError,
  Unavailable,
  UnsupportedMediaType,
} from '../oauth/errors.js'

export const ACCEPTED_TYPES = ['application/x-www-form-urlencoded', 'application/json']

/** Maps any thrown value to the OAuthError the client sees. */
export function toOAuthError(err: FastifyError, bodyLimit: number): OAuthError {
  if (err instanceof OAuthError) return err
  if (err.validation) {
    const first = err.validation[0]
    const where = first?.instancePath
      ? first.instancePath.slice(1).replace(/\//g, '.')
      : (first?.params as { missingProperty?: string; additionalProperty?: string })?.missingProperty
    const extra = (first?.params as { additionalProperty?: string })?.additionalProperty
    const description = extra
      ? `Unknown field "${extra}".`
      : where
        ? `Invalid ${err.validationContext ?? 'body'} field "${where}": ${first?.message}.`
        : `Invalid ${err.validationContext ?? 'body'}: ${first?.message}.`
    const e = new InvalidRequest(description)
    e.details = err.validation.map((v) => ({ path: v.instancePath, message: v.message, params: v.params }))
    return e
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaType(ACCEPTED_TYPES)
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new PayloadTooLarge(bodyLimit)
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InvalidRequest('The body is not valid JSON.')
  }
  if (err.statusCode === 429) return new RateLimited(Number((err as { retryAfter?: number }).retryAfter ?? 1))
  if (err instanceof SyntaxError) return new InvalidRequest('The body could not be parsed.')
  if (isDatabaseUnavailable(err)) return new Unavailable()
  if (isInvalidText(err)) return new InvalidRequest('The request contains characters that cannot be stored.')
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    // Fastify's own 4xx errors (content length, malformed headers…): their messages are safe.
    return new InvalidRequest(err.message, err.statusCode)
  }
  return new ServerError()
}

function send(reply: FastifyReply, e: OAuthError): FastifyReply {
  return reply.code(e.statusCode).headers(e.headers).type('application/json; charset=utf-8').send(JSON.stringify(e.toJSON()))
}

async function errors(app: FastifyInstance, opts: { bodyLimit: number }) {
  // Route patterns by method, to tell a wrong method (405) from an unknown path (404).
  const routes: { pattern: RegExp; method: string }[] = []
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`)
    for (const method of methods) routes.push({ pattern, method })
  })

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const e = toOAuthError(err, opts.bodyLimit)
    if (e.statusCode >= 500) req.log.error({ err }, e.error === 'unavailable' ? 'database unavailable' : 'unhandled error')
    else if (!(err instanceof OAuthError)) req.log.info({ code: err.code, msg: err.message }, 'request refused')
    return send(reply, e)
  })

  app.setNotFoundHandler((req: FastifyRequest, reply: FastifyReply) => {
    const path = req.url.split('?')[0] ?? ''
    const allow = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))]
    return send(reply, allow.length > 0 ? new MethodNotAllowed(req.method, allow) : new NotFound(`No route for ${req.method} ${path}.`))
  })
}

export default fp(errors, { name: 'errors' })
