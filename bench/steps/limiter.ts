// The limiter step: client_credentials with the per-address rate limit counting every request
// (a budget it never reaches) against the same with the limit off, each run in a fresh Tessera
// process, alternating, so that what the limiter costs is read beside its own baseline.
import { checkClientCredentials } from '../lib/checks.js'
import type { Bench } from '../lib/context.js'
import { log } from '../lib/log.js'
import { type Measured, measure } from '../lib/measure.js'
import { stop } from '../lib/proc.js'
import { requestsOf } from '../lib/requests.js'
import { startTessera } from '../lib/server.js'
import { fmt } from '../lib/stats.js'
import { perProcess } from './jwks.js'

/** Far more than a run sends: every request is counted, none is refused. */
const NEVER_REACHED = '9999999/1m'

async function run(b: Bench, limited: boolean, name: string): Promise<{ m: Measured; check: string }> {
  const server = await startTessera(b, { env: { RATE_LIMIT_TOKEN: limited ? NEVER_REACHED : '0' } })
  try {
    const { m, sample } = await measure(b, server.child.pid!, name, await requestsOf({ ...b, server }, 'client_credentials'), 1)
    return { m, check: await checkClientCredentials(sample ?? '{}', server.target, b.client.id) }
  } finally {
    await stop(server.child)
  }
}

export async function limiter(b: Bench): Promise<void> {
  const off: Measured[] = []
  const on: Measured[] = []
  let check = ''
  for (let i = 0; i < b.plan.runs; i++) {
    const label = ` (run ${i + 1}, a fresh process)`
    for (const limited of i % 2 === 0 ? [false, true] : [true, false]) {
      const r = await run(b, limited, `POST /token client_credentials, per-address limit ${limited ? 'on' : 'off'}${label}`)
      ;(limited ? on : off).push(r.m)
      check = r.check
    }
    log(`  run ${i + 1}: limit on ${fmt(on[i]!.rps)} ÷ off ${fmt(off[i]!.rps)} req/s = ${(on[i]!.rps / off[i]!.rps).toFixed(3)}`)
  }
  const each = (ms: Measured[]) => `runs in ${ms.length} fresh processes, alternating: ${ms.map((m) => fmt(m.rps)).join(' / ')} req/s`
  b.results.ccLimitOff = perProcess('POST /token client_credentials, limit off', off, { check, note: each(off) })
  b.results.ccLimitOn = perProcess(`POST /token client_credentials, limit on (${NEVER_REACHED})`, on, { check, note: each(on) })
}
