// One error type for every answer that is not a success: the RFC 6749 §5.2 shape
// `{error, error_description}` (docs/errors.md), a status, and headers. Throw a subclass with a
// safe description; anything the client must not see goes in `because()`, which is logged only.

export class OAuthError extends Error {
  override name = 'OAuthError'
  readonly headers: Record<string, string> = {}
  /** Extra members of the body (validation `details`). */
  details?: unknown
  /** Why, for the log only: never sent (which check failed, on what). */
  reason?: string

  constructor(
    readonly error: string,
    readonly statusCode: number,
    readonly description: string,
  ) {
    super(description)
  }

  /** Attaches the private reason that the log shows and the client never sees. */
  because(reason: string): this {
    this.reason = reason
    return this
  }

  toJSON(): Record<string, unknown> {
    return this.details === undefined
      ? { error: this.error, error_description: this.description }
      : { error: this.error, error_description: this.description, details: this.details }
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description = 'The request is missing a parameter or is otherwise malformed.', status = 400) {
    super('invalid_request', status, description)
  }
}

/** RFC 6749 §5.2: 401 with WWW-Authenticate naming the scheme the client tried (Basic by default). */
export class InvalidClient extends OAuthError {
  constructor(description = 'Client authentication failed.') {
    super('invalid_client', 401, description)
    this.headers['www-authenticate'] = 'Basic realm="tessera", charset="UTF-8"'
  }
}

export class InvalidGrant extends OAuthError {
  constructor(description = 'The grant is invalid, expired or revoked.') {
    super('invalid_grant', 400, description)
  }
}

export class UnauthorizedClient extends OAuthError {
  constructor(description = 'This client may not use this grant type.') {
    super('unauthorized_client', 400, description)
  }
}

export class UnsupportedGrantType extends OAuthError {
  constructor(description = 'The grant type is not supported.') {
    super('unsupported_grant_type', 400, description)
  }
}

export class InvalidScope extends OAuthError {
  constructor(description = 'The requested scope is invalid or exceeds what the client may ask for.') {
    super('invalid_scope', 400, description)
  }
}

/** RFC 6750 §3.1: bearer-token errors carry the reason in WWW-Authenticate. */
export class InvalidToken extends OAuthError {
  constructor(description = 'The access token is missing, invalid, expired or revoked.', missing = false) {
    super('invalid_token', 401, description)
    // §3.1: with no credentials at all, the server SHOULD NOT include an error code.
    this.headers['www-authenticate'] = missing
      ? 'Bearer realm="tessera"'
      : `Bearer realm="tessera", error="invalid_token", error_description="${description.replace(/["\\]/g, '')}"`
  }
}

export class InsufficientScope extends OAuthError {
  constructor(scope: string) {
    super('insufficient_scope', 403, `This request needs scope "${scope}".`)
    this.headers['www-authenticate'] = `Bearer realm="tessera", error="insufficient_scope", scope="${scope}"`
  }
}

export class Forbidden extends OAuthError {
  constructor(description = 'You may not do this.') {
    super('forbidden', 403, description)
  }
}

export class NotFound extends OAuthError {
  constructor(description = 'Not found.') {
    super('not_found', 404, description)
  }
}

export class MethodNotAllowed extends OAuthError {
  constructor(method: string, allow: string[]) {
    super('method_not_allowed', 405, `${method} is not allowed here; use ${allow.join(' or ')}.`)
    this.headers.allow = allow.join(', ')
  }
}

export class Conflict extends OAuthError {
  constructor(description: string) {
    super('conflict', 409, description)
  }
}

export class PayloadTooLarge extends OAuthError {
  constructor(limit: number) {
    super('invalid_request', 413, `The request body is larger than ${limit} bytes.`)
  }
}

export class UnsupportedMediaType extends OAuthError {
  constructor(accepted: readonly string[]) {
    super('invalid_request', 415, `Unsupported Content-Type; send ${accepted.join(' or ')}.`)
  }
}

export class RateLimited extends OAuthError {
  constructor(retryAfterSeconds: number, description = 'Too many requests; try again later.') {
    super('rate_limited', 429, description)
    this.headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterSeconds)))
  }
}

export class Unavailable extends OAuthError {
  constructor(description = 'The service is temporarily unavailable; try again shortly.') {
    super('unavailable', 503, description)
    this.headers['retry-after'] = '1'
  }
}

export class ServerError extends OAuthError {
  constructor() {
    super('server_error', 500, 'The server met an unexpected condition.')
  }
}
