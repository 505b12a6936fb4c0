// The metrics step: client_credentials with metrics recording on (the default: every answer
// counted and timed, the Node.js runtime sampled) against the same with METRICS_RECORDING=off,
// each run in a fresh Tessera process, alternating, so that what recording costs is read beside
// its own baseline. Both serve a metrics listener; a scrape after each run shows which it was.
import { checkClientCredentials } from '../lib/checks.js'
import type { Bench } from '../lib/context.js'
import { log } from '../lib/log.js'
import { type Measured, measure } from '../lib/measure.js'
import { freePort, stop } from '../lib/proc.js'
import { requestsOf } from '../lib/requests.js'
import { startTessera } from '../lib/server.js'
import { fmt } from '../lib/stats.js'
import { perProcess } from './jwks.js'

/** The /token answers the listener counted: more than zero with recording on, none off. */
async function countedTokens(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('tessera_http_requests_total{') && l.includes('route="/token"') && l.includes('status="200"'))
  return line ? Number(line.split(' ').at(-1)) : 0
}

async function run(b: Bench, recording: boolean, name: string): Promise<{ m: Measured; check: string }> {
  const metricsPort = await freePort()
  const server = await startTessera(b, { env: { METRICS_RECORDING: recording ? 'on' : 'off', METRICS_PORT: String(metricsPort) } })
  try {
    const { m, sample } = await measure(b, server.child.pid!, name, await requestsOf({ ...b, server }, 'client_credentials'), 1)
    const counted = await countedTokens(metricsPort)
    if (recording ? counted === 0 : counted !== 0) throw new Error(`metrics recording ${recording ? 'on' : 'off'}, yet /metrics counted ${counted} tokens`)
    const check = await checkClientCredentials(sample ?? '{}', server.target, b.client.id)
    return { m, check: recording ? `${check}; /metrics counted ${counted} POST /token 200s` : check }
  } finally {
    await stop(server.child)
  }
}

export async function metrics(b: Bench): Promise<void> {
  const off: Measured[] = []
  const on: Measured[] = []
  const checks: Record<'on' | 'off', string> = { on: '', off: '' }
  for (let i = 0; i < b.plan.runs; i++) {
    const label = ` (run ${i + 1}, a fresh process)`
    for (const recording of i % 2 === 0 ? [false, true] : [true, false]) {
      const r = await run(b, recording, `POST /token client_credentials, metrics recording ${recording ? 'on' : 'off'}${label}`)
      ;(recording ? on : off).push(r.m)
      checks[recording ? 'on' : 'off'] = r.check
    }
    log(`  run ${i + 1}: metrics on ${fmt(on[i]!.rps)} ÷ off ${fmt(off[i]!.rps)} req/s = ${(on[i]!.rps / off[i]!.rps).toFixed(3)}`)
  }
  const each = (ms: Measured[]) => `runs in ${ms.length} fresh processes, alternating: ${ms.map((m) => fmt(m.rps)).join(' / ')} req/s`
  b.results.ccMetricsOff = perProcess('POST /token client_credentials, metrics recording off', off, { check: checks.off, note: each(off) })
  b.results.ccMetricsOn = perProcess('POST /token client_credentials, metrics recording on', on, { check: checks.on, note: each(on) })
}
