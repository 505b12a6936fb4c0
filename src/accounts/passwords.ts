// Password hashing: argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1), several times
// cheaper than the library's defaults; sign-in stays CPU-bound by design. argon2 runs on the
// libuv pool, never on the event loop.
import { availableParallelism } from 'node:os'
import argon2 from 'argon2'

export const ARGON2 = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const

// At most this many hashes run at once. Unbounded, a burst of sign-ins fills libuv's pool
// (where token signing waits behind them, first in first out) and crowds the event loop off
// its core; bounded to the cores but one, throughput is the same and the rest stays fast.
let limit = Math.max(1, availableParallelism() - 1)
let running = 0
const waiting: (() => void)[] = []

/** Sets how many argon2 computations may run at once (PASSWORD_HASH_CONCURRENCY). */
export function setHashConcurrency(n: number): void {
  if (n > 0) limit = n
}

async function bounded<T>(work: () => Promise<T>): Promise<T> {
  // A finishing hash hands its slot straight to the next in line (the slot count does not
  // change): first come, first served, with `running` never above `limit`.
  if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve))
  else running++
  try {
    return await work()
  } finally {
    const next = waiting.shift()
    if (next) next()
    else running--
  }
}

/**
 * The form a password is hashed and compared in: Unicode NFC (UAX #15), so that the same text
 * typed on another keyboard or system (`é` precomposed, or `e` and a combining acute) is the
 * same password (NIST SP 800-63B §5.1.1.2). Done here, inside hashing and verifying, so that
 * every path (sign-up, sign-in, change, reset, the CLI) normalises the same way.
 */
const normalise = (password: string): string => password.normalize('NFC')

/** Hashes a new password (checked by checkNewPassword first), normalised. */
export async function hashPassword(password: string): Promise<string> {
  // checkNewPassword refuses these with a 400; nothing else may hash one.
  if (password.includes('\u0000')) throw new Error('a password may not contain NUL characters')
  const normal = normalise(password)
  return bounded(() => argon2.hash(normal, ARGON2))
}

let dummy: Promise<string> | undefined

/**
 * Stored hashes that matched only the password as typed, not its normal form: made before
 * Tessera normalised. needsRehash says yes to them once, so that the sign-in that proved the
 * password stores it again, normalised (grants/password.ts). Bounded: a hint, not a record.
 */
const unnormalised = new Set<string>()
const UNNORMALISED_KEPT = 1000

/**
 * Verifies a password against a stored hash, or against a dummy hash when there is no user,
 * so that an unknown email costs the same argon2 work as a wrong password (no timing oracle).
 * A password with a NUL never matches (none can be set). One typed in another normal form than
 * the stored hash's matches; a hash made from the password as typed, before Tessera normalised,
 * is tried too (the same second verification for an unknown user) and marked for rehashing.
 */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  dummy ??= hashPassword('tessera-dummy-password')
  const target = hash ?? (await dummy)
  const normal = normalise(password)
  const verify = (candidate: string) => bounded(() => argon2.verify(target, candidate)).catch(() => false)
  let ok = await verify(normal)
  if (!ok && normal !== password && (await verify(password)) && hash !== undefined) {
    ok = true
    if (unnormalised.size >= UNNORMALISED_KEPT) unnormalised.delete(unnormalised.values().next().value!)
    unnormalised.add(hash)
  }
  return ok && hash !== undefined && !password.includes('\u0000')
}

/**
 * True when a stored hash should be made again from the password that just matched it: made
 * with weaker parameters than today's, or from the password before normalisation.
 */
export const needsRehash = (hash: string): boolean => unnormalised.delete(hash) || argon2.needsRehash(hash, ARGON2)
