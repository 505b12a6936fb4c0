// --profile and --perf: each profiled load against a server of its own, and the summary of its timed window's samples.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { formatSummary, summariseProfile } from '../profile.js'
import { type Bench, FAMILIES_SMALL, LOAD_CORE, PROFILED, RESULTS, type Step } from './context.js'
import { log } from './log.js'
import { settle, shaped } from './measure.js'
import { formatPerf, havePerf, startPerf, stopPerf, summarisePerf } from './perf.js'
import { exited, stop } from './proc.js'
import type { LoadResult } from './protocol.js'
import { clientPosts, fillPool, requestsOf } from './requests.js'
import { seedFamilies } from './seed.js'
import { perfMapFlags, startBaseline, startTessera } from './server.js'
import { fmt } from './stats.js'
import { track } from './tracked.js'

/**
 * `v8`: each load against a server started under `node --cpu-prof` and stopped gracefully (V8
 * writes the profile at exit). `perf`: `perf record` on every thread of the server during the
 * load (bench/lib/perf.ts). Either way only the timed window's samples are summarised, into
 * `profiles` (as each is done, so a failed run still records the ones before).
 */
export async function profileAll(b: Bench, steps: Set<Step>, profiles: Record<string, string>, tool: 'v8' | 'perf'): Promise<void> {
  if (tool === 'perf' && !havePerf()) throw new Error('--perf needs Linux perf (Debian: apt-get install linux-perf)')
  await seedFamilies(b.db, { total: FAMILIES_SMALL, userId: b.growthUser.id, clientId: b.client.id })
  await stop(b.server.child)
  for (const step of steps) {
    const dir = join(RESULTS, 'profiles', `${b.stamp}-${tool === 'perf' ? 'perf-' : ''}${step}`)
    mkdirSync(dir, { recursive: true })
    if (step === 'sign') {
      profiles[step] = await perfSignBaseline(dir)
      continue
    }
    b.server = await startTessera(b, tool === 'perf' ? { perfDir: dir } : { profileDir: dir })
    const pid = b.server.child.pid!
    const recorder = tool === 'perf' ? track(await startPerf(pid, join(dir, 'perf.data'), LOAD_CORE)) : undefined
    // One timed window after the warm-up; only its samples are summarised.
    let load: LoadResult
    if (step === 'refresh') {
      await fillPool(b)
      const rr = await b.lg.refresh(shaped(b.plan, clientPosts(b, '/token'), 1), b.pool)
      b.pool = rr.pool
      load = rr
    } else if (step === 'jwks' || step === 'client_credentials' || step === 'introspect' || step === 'password') {
      load = await b.lg.load(shaped(b.plan, await requestsOf(b, step), 1))
    } else {
      throw new Error(`--profile takes ${PROFILED.join(', ')}, not ${step}`)
    }
    if (recorder) await stopPerf(recorder)
    await settle(pid)
    const r = load.runs[0]!
    log(`profile ${step}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}`)
    await stop(b.server.child)
    let text: string
    if (tool === 'perf') {
      text = formatPerf(`${step} at ${fmt(r.rps)} req/s`, summarisePerf(join(dir, 'perf.data'), pid, load.window))
      rmSync(`/tmp/perf-${pid}.map`, { force: true })
    } else {
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
      if (!file) throw new Error(`no .cpuprofile written in ${dir}`)
      const title = `${step} at ${fmt(r.rps)} req/s (${join('bench', 'results', 'profiles', `${b.stamp}-${step}`, file)})`
      text = formatSummary(title, summariseProfile(join(dir, file), { from: load.window[0], to: load.window[1] }))
    }
    writeFileSync(join(dir, 'summary.txt'), `${text}\n`)
    profiles[step] = text
  }
}

/**
 * The jose sign baseline under perf: 50 signs in flight on core 0, as measured, sampled for
 * 8 s once it is signing. Its RSA share is what a load's RSA share is set against.
 */
async function perfSignBaseline(dir: string): Promise<string> {
  const child = startBaseline(['sign', '--runs', '1', '--seconds', '12', '--warmup', '3'], { stdout: 'ignore', nodeFlags: perfMapFlags(dir) })
  // perf follows only the threads that exist when it attaches: wait until the warm-up has
  // started the libuv threads that sign.
  await sleep(2_500)
  const recorder = track(await startPerf(child.pid!, join(dir, 'perf.data'), LOAD_CORE))
  const from = Number(process.hrtime.bigint() / 1000n) + 1_500_000
  await exited(child)
  await stopPerf(recorder)
  if (child.exitCode !== 0) throw new Error(`baseline sign exited with ${child.exitCode ?? child.signalCode}`)
  const text = formatPerf('baseline: jose RS256 sign, RSA-2048, 50 in flight', summarisePerf(join(dir, 'perf.data'), child.pid!, [from, from + 8_000_000]))
  rmSync(`/tmp/perf-${child.pid}.map`, { force: true })
  writeFileSync(join(dir, 'summary.txt'), `${text}\n`)
  log('profile sign: done')
  return text
}
