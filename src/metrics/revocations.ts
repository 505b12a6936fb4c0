// Counts refresh-family revocations where they happen: at the store methods that revoke, so that
// every path (the revoke endpoint, reuse, sign-out, disable, password change or reset, client
// delete, emergency rotation, and any added later) is counted without each service knowing.
import type { Stores } from '../stores/index.js'
import type { Metrics } from './registry.js'

type Counted = Pick<Stores, 'families' | 'passwordResets'>

/** `stores` with its revoking methods counting into tessera_families_revoked_total (and reuse into its own counter). */
export function countRevocations<S extends Counted>(stores: S, metrics: Pick<Metrics, 'familiesRevoked' | 'refreshReuse'>): S {
  const tally = <R extends boolean | number | string[]>(reason: string, result: R): R => {
    const n = typeof result === 'number' ? result : typeof result === 'boolean' ? Number(result) : result.length
    if (n > 0) {
      metrics.familiesRevoked.inc({ reason }, n)
      // A reuse is counted once its family is revoked for it: a second replay of the same spent
      // token finds the family revoked already and is not a new detection.
      if (reason === 'reuse_detected') metrics.refreshReuse.inc(n)
    }
    return result
  }
  const f = stores.families
  const p = stores.passwordResets
  return {
    ...stores,
    families: {
      ...f,
      revoke: async (id, reason, now) => tally(reason, await f.revoke(id, reason, now)),
      revokeOfUser: async (userId, id, reason, now) => tally(reason, await f.revokeOfUser(userId, id, reason, now)),
      revokeAllOfUser: async (userId, reason, now, exceptId) => tally(reason, await f.revokeAllOfUser(userId, reason, now, exceptId)),
      revokeAllOfUserAndClient: async (userId, clientId, reason, now) => tally(reason, await f.revokeAllOfUserAndClient(userId, clientId, reason, now)),
      revokeAllOfSession: async (sessionId, reason, now) => tally(reason, await f.revokeAllOfSession(sessionId, reason, now)),
      revokeAllOfClient: async (clientId, reason, now) => tally(reason, await f.revokeAllOfClient(clientId, reason, now)),
      revokeSignedBy: async (kid, reason, now) => tally(reason, await f.revokeSignedBy(kid, reason, now)),
    } satisfies S['families'],
    passwordResets: {
      ...p,
      // A reset revokes every family of the user in the same statement that spends the token.
      consume: async (r) => {
        const done = await p.consume(r)
        if (done) tally('password_reset', done.revokedFamilies)
        return done
      },
    } satisfies S['passwordResets'],
  }
}
