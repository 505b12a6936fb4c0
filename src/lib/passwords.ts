// Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1). On these 2-core
// machines that is about 96 hashes/s, against 13/s at the library's defaults; sign-in stays
// CPU-bound by design. argon2 runs on the libuv pool, never on the event loop.
import argon2 from 'argon2'

export const ARGON2 = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const

export const hashPassword = (password: string): Promise<string> => argon2.hash(password, ARGON2)

let dummy: Promise<string> | undefined

/**
 * Verifies a password against a stored hash, or against a dummy hash when there is no user,
 * so that an unknown email costs the same argon2 work as a wrong password (no timing oracle).
 */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  dummy ??= hashPassword('tessera-dummy-password')
  const target = hash ?? (await dummy)
  try {
    const ok = await argon2.verify(target, password)
    return ok && hash !== undefined
  } catch {
    return false
  }
}

/** True when a stored hash was made with weaker parameters than today's. */
export const needsRehash = (hash: string): boolean => argon2.needsRehash(hash, ARGON2)
