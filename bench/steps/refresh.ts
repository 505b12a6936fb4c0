// The refresh and growth steps: refresh-token rotations from a pool of real families, at 10,000 and then 1,000,000 families.
import { assert, checkUserTokens } from '../lib/checks.js'
import { type Bench, FAMILIES_LARGE, FAMILIES_SMALL, POOL_TARGET } from '../lib/context.js'
import { log } from '../lib/log.js'
import { aggregate, announce, cpuMeter, logRuns, type Measured, settle, shaped } from '../lib/measure.js'
import { clientPosts, fillPool, form, formHeaders } from '../lib/requests.js'
import { countFamilies, seedFamilies } from '../lib/seed.js'
import { fmt } from '../lib/stats.js'
import { signBaseline } from './baselines.js'

/** Before the first refresh load (and the growth load): the table at 10,000 families. */
export async function seedSmall(b: Bench): Promise<void> {
  const added = await seedFamilies(b.db, { total: FAMILIES_SMALL, userId: b.growthUser.id, clientId: b.client.id })
  log(`refresh_families: ${fmt(await countFamilies(b.db))} rows (${fmt(added)} of them seeded by SQL)`)
}

/** `before` runs once the pool is ready, right before the load (the sign baseline, next to what it is compared with). */
async function measureRefresh(b: Bench, name: string, before?: () => Promise<void>): Promise<{ m: Measured; sample?: string }> {
  await fillPool(b)
  await before?.()
  announce(b.plan, name)
  const pid = b.server.child.pid!
  await settle(pid)
  const cpu = cpuMeter(pid, b.lg.pid)
  const load = await b.lg.refresh(shaped(b.plan, clientPosts(b, '/token')), b.pool)
  const used = cpu()
  await settle(pid)
  b.pool = load.pool
  logRuns(load, used)
  const note = `pool of ${POOL_TARGET} families; ${load.discarded} tokens in flight at the stop discarded${load.exhausted ? `; POOL EXHAUSTED ${load.exhausted}×` : ''}`
  log(`  ${note}`)
  const m = aggregate(name, load, { note, cpu: used })
  return load.sample !== undefined ? { m, sample: load.sample } : { m }
}

async function checkRefreshSample(b: Bench, sample: string | undefined): Promise<string> {
  if (sample === undefined) return 'NO 200 in the load to check'
  await checkUserTokens(sample, b.server.target, b.client.id)
  return 'a 200 of the load carries an access and a refresh token that verify against the JWKS, same sid'
}

/** Presents a token of the pool, checks the answer, then presents the spent token again: it must be refused. */
async function checkRotation(b: Bench): Promise<string> {
  const presented = b.pool.shift()
  assert(presented, 'a token in the pool')
  const refresh = (token: string) =>
    fetch(`${b.server.base}/token`, { method: 'POST', headers: formHeaders(b.client), body: form({ grant_type: 'refresh_token', refresh_token: token }) })
  const res = await refresh(presented)
  const body = await res.text()
  assert(res.status === 200, `refresh answers 200 (got ${res.status} ${body})`)
  await checkUserTokens(body, b.server.target, b.client.id)
  const replay = await refresh(presented)
  const replayBody = (await replay.json()) as { error?: string }
  assert(replay.status === 400 && replayBody.error === 'invalid_grant', `a spent refresh token is refused with invalid_grant (got ${replay.status})`)
  // That replay revoked the family (reuse detection), so its new token does not go back to the pool.
  return 'one more rotation answers 200 with valid tokens, and the token it spent is then refused (invalid_grant)'
}

export async function refresh(b: Bench): Promise<void> {
  const before = b.wanted('sign')
    ? async () => {
        b.results.signForRefresh = await signBaseline(b, ' (again, next to refresh)')
      }
    : undefined
  const { m, sample } = await measureRefresh(b, `POST /token refresh_token (${fmt(FAMILIES_SMALL)} families)`, before)
  b.results.refresh = { ...m, check: `${await checkRefreshSample(b, sample)}; ${await checkRotation(b)}` }
  if (b.wanted('sign')) b.results.signAfterRefresh = await signBaseline(b, ' (again, after refresh)')
}

export async function growth(b: Bench): Promise<void> {
  const t0 = Date.now()
  const added = await seedFamilies(b.db, { total: FAMILIES_LARGE, userId: b.growthUser.id, clientId: b.client.id })
  log(`refresh_families: ${fmt(await countFamilies(b.db))} rows (${fmt(added)} seeded by SQL generate_series in ${((Date.now() - t0) / 1000).toFixed(1)} s)`)
  const { m, sample } = await measureRefresh(b, `POST /token refresh_token (${fmt(FAMILIES_LARGE)} families)`)
  b.results.growth = { ...m, check: await checkRefreshSample(b, sample) }
}
