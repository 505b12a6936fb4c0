// Parameters of the OAuth endpoints, from a form or a JSON body.
import { InvalidRequest } from './errors.js'

/**
 * Each parameter as one string. RFC 6749 §3.1/§3.2: a parameter sent twice is an error;
 * unknown parameters are ignored (not rejected, as the JSON APIs do).
 */
export function oauthParams(body: unknown): Record<string, string | undefined> {
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('The body must be a form or a JSON object.')
  const out: Record<string, string | undefined> = Object.create(null)
  for (const [key, value] of Object.entries(body)) {
    if (Array.isArray(value)) throw new InvalidRequest(`The parameter ${key} was sent more than once.`)
    if (typeof value !== 'string') throw new InvalidRequest(`The parameter ${key} must be a string.`)
    // Postgres text cannot hold NUL: refuse it here, not as a driver error on the way to a lookup.
    if (value.includes('\u0000')) throw new InvalidRequest(`The parameter ${key} contains a NUL character.`)
    // §3.1: parameters sent without a value are treated as omitted.
    out[key] = value === '' ? undefined : value
  }
  return out
}
