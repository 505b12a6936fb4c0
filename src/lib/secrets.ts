// Random secrets, their fast hashes, and constant-time comparison.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** A 256-bit random value, base64url (43 characters). */
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url')

/** SHA-256, hex. Right for high-entropy secrets (client secrets, reset tokens); never for passwords. */
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex')

/** Compares two strings in time that depends only on their length. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
