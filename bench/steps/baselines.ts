// The baselines on Tessera's core, Tessera idle: jose sign, node:crypto sign and argon2id (bench/baselines.ts), as rows.
import { type Bench, CONNECTIONS, SERVER_CORE } from '../lib/context.js'
import { log } from '../lib/log.js'
import { type Measured, settle } from '../lib/measure.js'
import { exited } from '../lib/proc.js'
import { startBaseline } from '../lib/server.js'
import { fmt, median } from '../lib/stats.js'

async function baseline(b: Bench, name: string, mode: string, extra: string[]): Promise<Measured> {
  const { plan } = b
  log(`${name}: ${plan.baselineRuns} × ${plan.baselineSeconds} s on core ${SERVER_CORE}`)
  await settle(b.server.child.pid!)
  const child = startBaseline(
    [mode, '--runs', String(plan.baselineRuns), '--seconds', String(plan.baselineSeconds), '--warmup', String(plan.baselineWarmup), ...extra],
    { stdout: 'pipe' },
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  await exited(child)
  if (child.exitCode !== 0) throw new Error(`baseline ${mode} exited with ${child.exitCode ?? child.signalCode}`)
  const { runs } = JSON.parse(out.trim().split('\n').at(-1)!) as { runs: number[] }
  log(`  ${runs.map((r) => fmt(r)).join(', ')} ops/s`)
  return { name, unit: 'ops/s', rps: median(runs), non2xx: 0, errors: 0, runs }
}

/**
 * The jose sign and argon2 baselines are taken right before *and* right after the measurement
 * they are the denominator of (the steps that measure it call these again with a label), and the
 * ratio divides by the median of both sets of windows: on a shared machine the background load
 * drifts over minutes, and a ratio of two figures taken far apart, or on one side of a change,
 * would measure the drift.
 */
export const signBaseline = (b: Bench, label: string) =>
  baseline(b, `baseline: jose RS256 sign, RSA-2048${label}`, 'sign', ['--concurrency', String(CONNECTIONS)])

export const argon2Baseline = (b: Bench, label: string) =>
  baseline(b, `baseline: argon2id hash, Tessera parameters${label}`, 'argon2', ['--concurrency', String(CONNECTIONS)])

export async function sign(b: Bench): Promise<void> {
  b.results.sign = await signBaseline(b, '')
}

export async function nodeSign(b: Bench): Promise<void> {
  b.results['node-sign'] = await baseline(b, 'baseline: node:crypto RS256 sign, sync, 1 in flight (for information)', 'node-sign', ['--concurrency', '1'])
}

export async function argon2(b: Bench): Promise<void> {
  b.results.argon2 = await argon2Baseline(b, '')
}
