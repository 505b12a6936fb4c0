// Scope strings (RFC 6749 §3.3): space-delimited tokens of printable ASCII but `"` and `\`.
import { InvalidRequest, InvalidScope } from './errors.js'

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/

export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const tokens = value.split(' ').filter((s) => s !== '')
  // §3.3: at least one scope-token; extra spaces between them are tolerated.
  if (tokens.length === 0 || !tokens.every((s) => SCOPE_TOKEN.test(s))) throw new InvalidRequest('The scope parameter is malformed.')
  return [...new Set(tokens)]
}

/** The granted scope: what was asked for, which must lie within `allowed`; by default all of it. */
export function grantScope(requested: string[] | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined) return [...allowed]
  const outside = requested.filter((s) => !allowed.includes(s))
  if (outside.length > 0) throw new InvalidScope(`Scope not allowed: ${outside.join(' ')}.`)
  return requested
}

/** The admin API's scope and audience (docs/endpoints.md#admin-api): it is a resource server of its own. */
export const ADMIN_SCOPE = 'admin'
export const adminAudience = (issuer: string) => `${issuer}/admin`

/**
 * The `admin` scope goes only to admins: asked for by anyone else it is invalid_scope; given by
 * default (the client may have it, nothing was asked) it is left out.
 */
export function scopeForRole(granted: string[], asked: boolean, role: string): string[] {
  if (role === 'admin' || !granted.includes(ADMIN_SCOPE)) return granted
  if (asked) throw new InvalidScope('Scope not allowed for this account: admin.')
  return granted.filter((s) => s !== ADMIN_SCOPE)
}
