// The revocations step: GET /revocations as a resource server polls it. Unchanged: `since` the
// newest cursor with its ETag in If-None-Match, a 304 answered from the instance's memory. With
// news: `since` a cursor older than a batch of revocations, so that every request reads those
// rows (through the revoked_at index) and answers 200 with them.
import type { Bench } from '../lib/context.js'
import { log } from '../lib/log.js'
import { aggregate, announce, cpuMeter, logRuns, type Requests, settle, shaped } from '../lib/measure.js'
import { form, formHeaders } from '../lib/requests.js'
import { PASSWORD } from '../lib/seed.js'

/** Revoked sessions and access tokens the "with news" load finds after its cursor. */
const NEWS = 10

interface Feed {
  sids: unknown[]
  jtis: unknown[]
  cursor: string
}

async function readFeed(b: Bench, since?: string): Promise<{ feed: Feed; etag: string }> {
  const res = await fetch(`${b.server.base}/revocations${since ? `?since=${since}` : ''}`, { headers: { authorization: b.client.basic } })
  if (res.status !== 200) throw new Error(`GET /revocations: ${res.status} ${await res.text()}`)
  return { feed: (await res.json()) as Feed, etag: res.headers.get('etag') ?? '' }
}

/** Runs a load whose expected answer is `status`; only other answers count as failures. */
async function load(b: Bench, name: string, requests: Requests, status: number) {
  announce(b.plan, name)
  await settle(b.server.child.pid!)
  const cpu = cpuMeter(b.server.child.pid!, b.lg.pid)
  const result = await b.lg.load(shaped(b.plan, requests))
  const used = cpu()
  logRuns(result, used)
  const expected = result.statusCodes[String(status)] ?? 0
  const all = Object.values(result.statusCodes).reduce((a, n) => a + n, 0)
  // The table's non-2xx column counts the answers that were not the expected one (a 304 is).
  return { m: aggregate(name, result, { cpu: used, non2xx: all - expected }), expected, all }
}

export async function revocations(b: Bench): Promise<void> {
  const before = await readFeed(b)
  // Sessions signed in and revoked, and one access token of each denied: the news.
  for (let i = 0; i < NEWS; i++) {
    const user = b.users[i % b.users.length]!
    const res = await fetch(`${b.server.base}/token`, {
      method: 'POST',
      headers: formHeaders(b.client),
      body: form({ grant_type: 'password', username: user.email, password: PASSWORD }),
    })
    const tokens = (await res.json()) as { access_token: string; refresh_token: string }
    for (const token of [tokens.refresh_token, tokens.access_token])
      await fetch(`${b.server.base}/revoke`, { method: 'POST', headers: formHeaders(b.client), body: form({ token }) })
  }
  const news = await readFeed(b, before.feed.cursor)
  if (news.feed.sids.length < NEWS || news.feed.jtis.length < NEWS)
    throw new Error(`the feed lists ${news.feed.sids.length} sids and ${news.feed.jtis.length} jtis, not ${NEWS} of each`)
  const after = await readFeed(b, news.feed.cursor)
  log(`  ${NEWS} sessions and ${NEWS} access tokens revoked; the feed after the old cursor lists ${news.feed.sids.length + news.feed.jtis.length} entries`)

  const get = (since: string, headers: Record<string, string> = {}): Requests => ({
    url: b.server.base,
    method: 'GET',
    path: `/revocations?since=${since}`,
    headers: { authorization: b.client.basic, ...headers },
  })
  const unchanged = await load(b, 'GET /revocations unchanged (If-None-Match: 304)', get(after.feed.cursor, { 'if-none-match': after.etag }), 304)
  b.results.feedUnchanged = { ...unchanged.m, check: `${unchanged.expected} of ${unchanged.all} answers were 304` }
  const fresh = await load(b, `GET /revocations with news (${NEWS} sids + ${NEWS} jtis after the cursor)`, get(before.feed.cursor), 200)
  b.results.feedNews = {
    ...fresh.m,
    check: `${fresh.expected} of ${fresh.all} answers were 200, each listing ${news.feed.sids.length + news.feed.jtis.length} entries`,
  }
}
