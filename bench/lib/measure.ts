// One measured load and its row: the plan's shape, the CPU each side used, the medians of the windows.
import { type Bench, CONNECTIONS, type Plan } from './context.js'
import { log } from './log.js'
import { cpuTicks, waitIdle } from './proc.js'
import type { LoadResult, LoadSpec } from './protocol.js'
import { fmt, median } from './stats.js'

export interface Measured {
  name: string
  unit: 'req/s' | 'ops/s'
  /** Medians of the runs. */
  rps: number
  p50?: number
  p99?: number
  /** Over every request the load sent, warm-up included. */
  non2xx: number
  errors: number
  runs: unknown[]
  warmup?: LoadResult['warmup']
  /** Cores used during the load (all threads): who was the limit, the server or the load generator. */
  cpu?: Cpu
  check?: string
  note?: string
}

export interface Cpu {
  server: number
  generator: number
}

/** What a load sends; the plan gives it its shape (connections, warm-up, windows). */
export type Requests = Omit<LoadSpec, 'connections' | 'warmup' | 'runs' | 'seconds'>

/** Starts counting the CPU the server and the load generator use; the returned function reads it, in cores. */
export function cpuMeter(server: number, generator: number): () => Cpu {
  const t0 = performance.now()
  const s0 = cpuTicks(server)
  const g0 = cpuTicks(generator)
  return () => {
    const secs = (performance.now() - t0) / 1000
    const cores = (ticks: number) => Number((ticks / 100 / secs).toFixed(2))
    return { server: cores(cpuTicks(server) - s0), generator: cores(cpuTicks(generator) - g0) }
  }
}

/** The plan's load shape for `requests`: its warm-up, then `runs` windows (the plan's, unless told). */
export const shaped = (plan: Plan, requests: Requests, runs = plan.runs): LoadSpec => ({
  ...requests,
  connections: CONNECTIONS,
  warmup: plan.warmup,
  runs,
  seconds: plan.seconds,
})

export function aggregate(name: string, load: LoadResult, extra: Partial<Measured> = {}): Measured {
  return fromRuns(name, load.runs, { non2xx: load.non2xx, errors: load.errors, warmup: load.warmup, ...extra })
}

/** A row from measured windows: the median of their rate and latencies. */
export function fromRuns(name: string, runs: LoadResult['runs'], extra: Partial<Measured> & Pick<Measured, 'non2xx' | 'errors'>): Measured {
  return {
    name,
    unit: 'req/s',
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    runs,
    ...extra,
  }
}

export function logRuns(load: LoadResult, cpu: Cpu): void {
  log(
    `  warm-up ${load.warmup.seconds.toFixed(1)} s (${load.warmup.requests} answers) until every connection had an answer; CPU used: server ${cpu.server}, load generator ${cpu.generator} (cores)`,
  )
  load.runs.forEach((r, i) => {
    log(`  run ${i + 1}: ${fmt(r.rps, r.rps < 100 ? 1 : 0)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}`)
  })
  if (load.non2xx || load.errors) log(`  over the whole load: non-2xx ${load.non2xx}, errors ${load.errors}, status codes ${JSON.stringify(load.statusCodes)}`)
}

/** Lets a server finish what a stopped load left in flight, so the next load starts from idle. */
export async function settle(pid: number): Promise<void> {
  const waited = await waitIdle(pid)
  if (waited > 1_000) log(`  (waited ${(waited / 1000).toFixed(1)} s for the server to finish the requests left in flight)`)
}

export const announce = (plan: Plan, name: string, runs = plan.runs) =>
  log(`${name}: warm-up ≥ ${plan.warmup} s, then ${runs} × ${plan.seconds} s at ${CONNECTIONS} connections`)

/** Loads the server `pid` from idle to idle; the row, and one 2xx body of the load for its check. */
export async function measure(b: Bench, pid: number, name: string, requests: Requests, runs = b.plan.runs): Promise<{ m: Measured; sample?: string }> {
  announce(b.plan, name, runs)
  await settle(pid)
  const cpu = cpuMeter(pid, b.lg.pid)
  const load = await b.lg.load(shaped(b.plan, requests, runs))
  const used = cpu()
  await settle(pid)
  logRuns(load, used)
  const m = aggregate(name, load, { cpu: used })
  return load.sample !== undefined ? { m, sample: load.sample } : { m }
}
