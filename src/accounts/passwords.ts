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

export const hashPassword = (password: string): Promise<string> => bounded(() => argon2.hash(password, ARGON2))

let dummy: Promise<string> | undefined

/**
 * Verifies a password against a stored hash, or against a dummy hash when there is no user,
 * so that an unknown email costs the same argon2 work as a wrong password (no timing oracle).
 */
export async function verifyPassword(hash: string | undefined, password: string): Promise<boolean> {
  dummy ??= hashPassword('tessera-dummy-password')
  const target = hash ?? (await dummy)
  try {
    const ok = await bounded(() => argon2.verify(target, password))
    return ok && hash !== undefined
  } catch {
    return false
  }
}

/** True when a stored hash was made with weaker parameters than today's. */
export const needsRehash = (hash: string): boolean => argon2.needsRehash(hash, ARGON2)
