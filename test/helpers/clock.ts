// A clock that stands still until a test moves it: expiry is tested without sleeping.
import type { Clock } from '../../src/lib/clock.js'

export interface FrozenClock extends Clock {
  /** Moves time forward by `seconds`. */
  advance(seconds: number): void
  set(ms: number): void
}

export function frozenClock(start = Date.UTC(2026, 10, 23, 12, 0, 0)): FrozenClock {
  let now = start
  return {
    now: () => now,
    advance: (seconds) => {
      now += seconds * 1000
    },
    set: (ms) => {
      now = ms
    },
  }
}
