// Recognises "the database is not there" in whatever wrapping pg, PGlite or Prisma gave it,
// so that it becomes 503 `unavailable` (docs/errors.md#unavailable) and not a 500.
import { DatabaseUnavailable } from './database.js'

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'EAI_AGAIN'])
// Prisma: can't reach server, timed out, closed the connection, pool timeout.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024'])
const MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|terminating connection|connection is closed|server closed the connection|cannot use a pool after calling end|client has encountered a connection error|database system is (starting up|shutting down)|pglite is closed/i

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err as Record<string, unknown> | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (typeof e !== 'object') return false
    if (e instanceof DatabaseUnavailable) return true
    const code = String(e.code ?? (e as { originalCode?: unknown }).originalCode ?? '')
    if (NETWORK_CODES.has(code) || PRISMA_CODES.has(code)) return true
    // SQLSTATE class 08 (connection exception) and 57P0x (admin shutdown, crash, cannot connect now).
    if (/^08...$|^57P0[1-3]$/.test(code)) return true
    if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true
  }
  return false
}

/**
 * Input the database refused as text (SQLSTATE 22021, invalid byte sequence, e.g. a NUL): the
 * request's fault, so 400, not 500. Inputs are checked before they get here; this is the net.
 */
export function isInvalidText(err: unknown): boolean {
  for (let e = err as Record<string, unknown> | undefined, depth = 0; e && typeof e === 'object' && depth < 6; e = e.cause as typeof e, depth++) {
    if (String(e.code ?? '') === '22021') return true
    if (typeof e.message === 'string' && /invalid byte sequence for encoding/i.test(e.message)) return true
  }
  return false
}
