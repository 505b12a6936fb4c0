// Parameters of the OAuth endpoints, from a form or a JSON body: normalised once (RFC 6749
// §3.1–§3.2), then checked against the schema of whoever reads them (a grant declares its own).
import Type, { type Static, type TObject } from 'typebox'
import { Compile } from 'typebox/compile'
import { InvalidRequest } from './errors.js'

/** Longer than any token Tessera issues; verifyToken parses nothing longer. */
export const MAX_TOKEN_LENGTH = 8192

export const ScopeParam = Type.String({ maxLength: 1024, description: 'Space-separated scopes (RFC 6749 §3.3).' })
// No maxLength: an oversize token is an invalid token, which /introspect answers `active: false`
// and /revoke with 200; verifyToken refuses anything over MAX_TOKEN_LENGTH unparsed.
export const TokenParam = Type.String({ description: 'A token Tessera issued.' })

/**
 * Each parameter as one string. A parameter sent twice is an error (a form gives an array);
 * one sent without a value is treated as omitted; unknown parameters pass (the RFC says to
 * ignore them, unlike the JSON APIs, which refuse them). NUL never reaches a lookup: Postgres
 * text cannot hold it (a `password`, which only argon2 sees, may hold one and is then wrong).
 */
export function oauthParams(body: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null)
  if (body === undefined || body === null) return out
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidRequest('The body must be a form or a JSON object.')
  for (const [key, value] of Object.entries(body)) {
    if (Array.isArray(value)) throw new InvalidRequest(`The parameter ${key} was sent more than once.`)
    if (typeof value !== 'string') throw new InvalidRequest(`The parameter ${key} must be a string.`)
    // The password grant's `password`: one with a NUL is a wrong password (invalid_grant, a
    // failed check like any other), as no password can hold one.
    if (value.includes('\u0000') && key !== 'password') throw new InvalidRequest(`The parameter ${key} contains a NUL character.`)
    if (value !== '') out[key] = value
  }
  return out
}

/** A compiled check of a parameter schema, answering `invalid_request` that names the parameter. */
export function paramsChecker<S extends TObject>(schema: S): (params: Record<string, string>) => Static<S> {
  const validator = Compile(schema)
  return (params) => {
    if (validator.Check(params)) return params as Static<S>
    const [first] = validator.Errors(params)
    if (first?.keyword === 'required') {
      const missing = (first.params as { requiredProperties?: string[] }).requiredProperties ?? []
      throw new InvalidRequest(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required.`)
    }
    const name = first?.instancePath.slice(1) ?? 'a parameter'
    throw new InvalidRequest(`The parameter ${name} ${first?.message ?? 'is invalid'}.`)
  }
}
