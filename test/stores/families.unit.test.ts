// isLive: the one definition of a live family (docs/tokens.md#live-families), a pure function:
// not revoked, and both the absolute end and the idle end strictly ahead.
import t from 'tap'
import { isLive } from '../../src/stores/families.js'

const now = new Date(Date.UTC(2026, 10, 23, 12, 0, 0))
const at = (seconds: number) => new Date(now.getTime() + seconds * 1000)

t.test('isLive', async (t) => {
  // [what, revokedAt, expiresAt, idleExpiresAt, live]
  const cases: [string, Date | null, Date, Date, boolean][] = [
    ['both ends ahead', null, at(3600), at(60), true],
    ['both ends a millisecond ahead', null, new Date(now.getTime() + 1), new Date(now.getTime() + 1), true],
    ['revoked, ends ahead', at(-1), at(3600), at(60), false],
    ['revoked just now', now, at(3600), at(60), false],
    ['at the absolute end', null, now, at(60), false],
    ['after the absolute end', null, at(-1), at(60), false],
    ['at the idle end', null, at(3600), now, false],
    ['after the idle end', null, at(3600), at(-1), false],
    ['both ends past', null, at(-10), at(-20), false],
  ]
  for (const [what, revokedAt, expiresAt, idleExpiresAt, live] of cases) t.equal(isLive({ revokedAt, expiresAt, idleExpiresAt }, now), live, what)
})
