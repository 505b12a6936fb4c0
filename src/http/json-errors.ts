// Every failure as the contract's JSON error (docs/errors.md): validation, content type, body
// size, a missing database, and bugs (logged, never shown). Each route group sets this handler
// in its own encapsulated context (useJsonErrors); an HTML group can set one of its own.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { InvalidRequest, OAuthError, PayloadTooLarge, RateLimited, ServerError, Unavailable, UnsupportedMediaType } from '../oauth/errors.js'
import { isDatabaseUnavailable, isInvalidText } from '../stores/db-errors.js'

/** Maps any thrown value to the OAuthError the client sees. */
export function toOAuthError(err: FastifyError, bodyLimit: number, accepts: readonly string[]): OAuthError {
  if (err instanceof OAuthError) return err
  if (err.validation) {
    const first = err.validation[0]
    const params = first?.params as { missingProperty?: string; additionalProperty?: string } | undefined
    const where = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : params?.missingProperty
    const context = err.validationContext ?? 'body'
    const description = params?.additionalProperty
      ? `Unknown field "${params.additionalProperty}".`
      : where
        ? `Invalid ${context} field "${where}": ${first?.message}.`
        : `Invalid ${context}: ${first?.message}.`
    const e = new InvalidRequest(description)
    // Where and what, in words; never the validator's own parameters or schema paths.
    e.details = err.validation.map((v) => ({ path: v.instancePath, message: v.message ?? 'is invalid' }))
    return e
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaType(accepts)
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

export function sendError(reply: FastifyReply, e: OAuthError): FastifyReply {
  return reply.code(e.statusCode).headers(e.headers).type('application/json; charset=utf-8').send(JSON.stringify(e.toJSON()))
}

/**
 * Sets the JSON error handler on this context: errors thrown by its routes and hooks leave as
 * JSON. `accepts` are the content types its routes parse (a 415 names them).
 */
export function useJsonErrors(app: FastifyInstance, accepts: readonly string[] = ['application/json']): void {
  const { bodyLimit } = app.config
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const e = toOAuthError(err, bodyLimit, accepts)
    if (e.statusCode >= 500) req.log.error({ err }, e.error === 'unavailable' ? 'database unavailable' : 'unhandled error')
    else if (!(err instanceof OAuthError)) req.log.info({ code: err.code, msg: err.message }, 'request refused')
    else if (e.reason) req.log.info({ error: e.error, reason: e.reason }, 'request refused')
    return sendError(reply, e)
  })
}
