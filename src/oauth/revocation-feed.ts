// The revocation feed (docs/tokens.md#revocation-feed): what was revoked while access
// tokens it affects may still be alive, after a cursor; and the in-memory mark that answers a
// poll which finds nothing new with a 304, without asking the database.
//
// The mark is the feed's newest revoked_at and how many revocations lie just before it (a
// FeedMark). This instance forgets its copy at once when it revokes something itself and reads it
// again; it also reads it once a second (FEED_REFRESH_MS), so a revocation made by another
// instance, or by the CLI, shows here within about a second. A copy that could not be read for
// STALE_MS is not trusted: the poll then goes to the database.
import { performance } from 'node:perf_hooks'
import type { Clock } from '../lib/clock.js'
import { decodeCursor, encodeCursor } from '../lib/cursor.js'
import type { FeedMark, RevocationFeedStore } from '../stores/revocation-feed.js'
import { InvalidRequest } from './errors.js'

/**
 * A revocation is written with its instance's clock a moment before it commits, so one written
 * with an earlier time than the newest can become visible later (a slow statement, another
 * instance's clock a little behind). A cursor therefore holds both the newest revocation it has
 * seen and when it was given: an answer after it also lists again what was revoked less than
 * this long before the cursor was given. The feed is a set; a repeated entry changes nothing.
 */
export const FEED_OVERLAP_MS = 10_000
/** How often each instance reads the mark: other instances' revocations show within this. */
export const FEED_REFRESH_MS = 1000
/** A copy of the mark older than this (the database stopped answering) is not trusted for a 304. */
const STALE_MS = 3000
/** A cursor this far ahead of our clock is not one the feed gave. */
const SKEW_MS = 5 * 60_000

export interface FeedBody {
  sids: { sid: string; exp: number }[]
  jtis: { jti: string; exp: number }[]
  cursor: string
}

export interface FeedDeps {
  store: Pick<RevocationFeedStore, 'mark' | 'rows' | 'listen'>
  clock: Clock
  /** ACCESS_TOKEN_TTL, seconds: a revoked family's access tokens are all expired that long after. */
  accessTokenTtl: number
  /** A failed background read of the mark (the database is away). */
  onError?: (err: unknown) => void
  refreshMs?: number
}

const tagOf = (m: FeedMark) => `W/"${m.newest?.getTime() ?? 0}.${m.recent}"`

/** RFC 9110 §13.1.2: If-None-Match uses the weak comparison; `*` matches any representation. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '')
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag))
}

const validTime = (ms: number, now: number) => Number.isSafeInteger(ms) && ms >= 0 && ms <= now + SKEW_MS

/** A cursor of this feed: the newest revocation it had seen, and when it was given; a 400 for anything else. */
function parseCursor(cursor: string, now: number): { newest: number; given: number } {
  const key = decodeCursor(cursor, ['string', 'number', 'number'])
  if (!key || key[0] !== 'revocations' || !validTime(key[1], now) || !validTime(key[2], now)) throw new InvalidRequest('The cursor is not one this feed gave.')
  return { newest: key[1], given: key[2] }
}

export function revocationFeed(deps: FeedDeps) {
  const { store, clock } = deps
  const ttlMs = deps.accessTokenTtl * 1000
  // The copy of the mark: its ETag, when it was read, and whether a revocation here made it old.
  let etag: string | undefined
  let confirmedAt = Number.NEGATIVE_INFINITY
  let generation = 0
  let refreshing: Promise<void> | undefined
  let again = false

  /** Reads the mark; one read at a time, and one more if a revocation here came during it. */
  function refresh(): Promise<void> {
    if (refreshing) {
      again = true
      return refreshing
    }
    refreshing = (async () => {
      do {
        again = false
        const seen = generation
        const started = performance.now()
        try {
          const mark = await store.mark(FEED_OVERLAP_MS)
          if (seen === generation) {
            etag = tagOf(mark)
            confirmedAt = started
          } else again = true
        } catch (err) {
          deps.onError?.(err)
          return
        }
      } while (again)
    })().finally(() => {
      refreshing = undefined
    })
    return refreshing
  }

  const unlisten = store.listen(() => {
    generation++
    etag = undefined
    void refresh()
  })
  const timer = setInterval(() => void refresh(), deps.refreshMs ?? FEED_REFRESH_MS)
  timer.unref()

  return {
    refresh,

    /** The ETag to answer a 304 with, when `ifNoneMatch` names the feed as this instance knows it; no database. */
    unchanged(ifNoneMatch: string | undefined): string | undefined {
      if (etag === undefined || performance.now() - confirmedAt > STALE_MS) return undefined
      return etagMatches(ifNoneMatch, etag) ? etag : undefined
    },

    /** The feed after `since` (or all of it), with its ETag. Reads only rows revoked after the cursor. */
    async read(since: string | undefined): Promise<{ body: FeedBody; etag: string }> {
      const now = clock.now()
      const cursor = since === undefined ? undefined : parseCursor(since, now)
      // The mark first: whatever is revoked after it is then listed now or in the next answer.
      const mark = await store.mark(FEED_OVERLAP_MS)
      // A family's access tokens were all issued by revokedAt, so all expired by revokedAt + TTL
      // (exp rounded up to the second); no older row can matter, with or without a cursor.
      const floor = now - ttlMs - 1000
      const after = cursor === undefined ? 0 : Math.min(cursor.newest, cursor.given - FEED_OVERLAP_MS)
      const rows = await store.rows(new Date(Math.max(floor, after)), new Date(now))
      const nowSeconds = Math.floor(now / 1000)
      const sids = new Map<string, number>()
      for (const r of rows.sids) {
        const exp = Math.ceil(r.revokedAt.getTime() / 1000) + deps.accessTokenTtl
        if (exp > nowSeconds && exp > (sids.get(r.sid) ?? 0)) sids.set(r.sid, exp)
      }
      const newest = Math.max(mark.newest?.getTime() ?? 0, cursor?.newest ?? 0)
      return {
        body: {
          sids: [...sids].map(([sid, exp]) => ({ sid, exp })),
          jtis: rows.jtis.map((r) => ({ jti: r.jti, exp: Math.floor(r.expiresAt.getTime() / 1000) })),
          cursor: encodeCursor(['revocations', newest, now]),
        },
        etag: tagOf(mark),
      }
    },

    async close(): Promise<void> {
      clearInterval(timer)
      unlisten()
      await refreshing
    },
  }
}

export type RevocationFeed = ReturnType<typeof revocationFeed>
