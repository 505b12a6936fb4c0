// Identifier formats.
import { randomBytes } from 'node:crypto'

/** Ids that reach a uuid column must look like one, or Postgres refuses the whole query. */
export const isUuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)

/**
 * Request ids: a random prefix per process and a counter, e.g. `Jq3x0W9k-2s1`. Unique within
 * a process and, with 48 random bits, across instances; much cheaper than a UUID per request,
 * which showed in the JWKS profile (BENCHMARKS.md).
 */
export function requestIdGenerator(): () => string {
  const prefix = randomBytes(6).toString('base64url')
  let n = 0
  return () => `${prefix}-${(++n).toString(36)}`
}
