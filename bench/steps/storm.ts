// The storm step: 50 concurrent password sign-ins, and the JWKS probed open-loop beside them (storm_jwks_p99_ms).
import { type Bench, CONNECTIONS, PROBE_RATE } from '../lib/context.js'
import { log } from '../lib/log.js'
import { aggregate, announce, cpuMeter, fromRuns, logRuns, settle, shaped } from '../lib/measure.js'
import { requestsOf } from '../lib/requests.js'
import { fmt } from '../lib/stats.js'

export async function storm(b: Bench): Promise<void> {
  const name = `storm: ${CONNECTIONS} concurrent password sign-ins`
  const pid = b.server.child.pid!
  announce(b.plan, name)
  log(`  and, once they are at steady state, the JWKS probed at ${PROBE_RATE} req/s (open loop) for each run`)
  await settle(pid)
  const cpu = cpuMeter(pid, b.lg.pid)
  const r = await b.lg.storm({
    storm: shaped(b.plan, await requestsOf(b, 'password')),
    probe: { url: b.server.base, path: '/.well-known/jwks.json', rate: PROBE_RATE },
  })
  const used = cpu()
  await settle(pid)
  logRuns(r.storm, used)
  r.probe.forEach((p, i) => {
    log(`  probe run ${i + 1}: JWKS p50 ${fmt(p.p50, 2)} ms, p99 ${fmt(p.p99, 2)} ms, non-2xx ${p.non2xx}, errors ${p.errors}`)
  })
  b.results.storm = aggregate(name, r.storm, { cpu: used })
  b.results.stormProbe = fromRuns(`storm: JWKS probe at ${PROBE_RATE} req/s during it`, r.probe, {
    non2xx: r.probe.reduce((n, p) => n + p.non2xx, 0),
    errors: r.probe.reduce((n, p) => n + p.errors, 0),
  })
}
