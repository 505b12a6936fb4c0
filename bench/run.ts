// `npm run bench`: measures Tessera against the limits of the one core it runs on (issue 5).
// Starts its own Postgres, seeds it, starts `node dist/server.js` pinned to core 0 and a load
// generator pinned to core 1, runs the steps (bench/steps/, in ORDER below) with the baselines on
// core 0 next to the measurements they divide, and prints a table and, as its last line, the
// summary of ratios. Raw figures go to bench/results/. What the steps share is in bench/lib/.
//
//   npm run bench                      3 runs of 10 s per measurement (median), after a warm-up
//   npm run bench -- --quick           1 run of 3 s each: a smoke check
//   npm run bench -- --only=sign,client_credentials
//                                      a subset of STEPS (lib/context.ts; a ratio needs both of its steps)
//   npm run bench -- --profile=client_credentials,refresh
//                                      instead: each of these loads (PROFILED) against a server
//                                      under `node --cpu-prof`, then its top costs (bench/profile.ts)
//   npm run bench -- --perf=sign,refresh
//                                      instead: the same loads, and the jose sign baseline, under
//                                      Linux `perf` (every thread, kernel included): the share of
//                                      CPU that is RSA arithmetic, and where the rest goes (lib/perf.ts)
//   npm run bench -- --log-level=info  Tessera's LOG_LEVEL (default warn)
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { type Bench, CONNECTIONS, POOL_USERS, PROFILED, RESULTS, ROOT, STEPS, type Step } from './lib/context.js'
import { LoadGenerator } from './lib/load-generator.js'
import { log } from './lib/log.js'
import type { Measured } from './lib/measure.js'
import { startCluster } from './lib/postgres.js'
import { affinity } from './lib/proc.js'
import { profileAll } from './lib/profiled.js'
import { loadAverage, type Machine, machine, writeResults } from './lib/results.js'
import { connect, seedClient, seedUsers } from './lib/seed.js'
import { startTessera } from './lib/server.js'
import { fmt, median, ratio } from './lib/stats.js'
import { cleanup } from './lib/tracked.js'
import { authorizationCode } from './steps/authorization-code.js'
import { argon2, nodeSign, sign } from './steps/baselines.js'
import { clientCredentials } from './steps/client-credentials.js'
import { introspect } from './steps/introspect.js'
import { jwks } from './steps/jwks.js'
import { limiter } from './steps/limiter.js'
import { metrics } from './steps/metrics.js'
import { password } from './steps/password.js'
import { growth, refresh, seedSmall } from './steps/refresh.js'
import { revocations } from './steps/revocations.js'
import { storm } from './steps/storm.js'

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'string' },
    perf: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
  },
})

const QUICK = args.quick
const PLAN = QUICK
  ? { runs: 1, seconds: 3, warmup: 1, baselineRuns: 1, baselineSeconds: 3, baselineWarmup: 1 }
  : { runs: 3, seconds: 10, warmup: 3, baselineRuns: 3, baselineSeconds: 5, baselineWarmup: 1 }

function stepsFrom(list: string | undefined, all: readonly Step[]): Set<Step> {
  if (!list) return new Set(all)
  const named = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const unknown = named.filter((s) => !(STEPS as readonly string[]).includes(s))
  if (unknown.length) {
    process.stderr.write(`unknown step ${unknown.join(', ')}; known: ${STEPS.join(', ')}\n`)
    process.exit(2)
  }
  return new Set(named as Step[])
}
const PROFILE = args.profile !== undefined ? stepsFrom(args.profile, PROFILED) : undefined
const PERF = args.perf !== undefined ? stepsFrom(args.perf, [...PROFILED, 'sign']) : undefined
const ONLY = stepsFrom(args.only, STEPS)

/**
 * The step order; each entry runs when one of its steps is wanted. A baseline stands next to what
 * it divides: jose sign → client_credentials → jose sign again; argon2 → password → argon2 again;
 * jose sign → refresh → jose sign again (the measuring step takes the baseline again after
 * itself, and refresh before itself too, once its pool is ready). The JWKS and the bare route
 * alternate within their step.
 */
const ORDER: [Step[], (b: Bench) => Promise<void>][] = [
  [['fastify', 'jwks'], jwks],
  [['sign'], sign],
  [['client_credentials'], clientCredentials],
  [['limiter'], limiter],
  [['metrics'], metrics],
  [['node-sign'], nodeSign],
  [['introspect'], introspect],
  [['revocations'], revocations],
  [['argon2'], argon2],
  [['password'], password],
  [['refresh', 'growth'], seedSmall],
  [['refresh'], refresh],
  [['authorization_code'], authorizationCode],
  [['storm'], storm],
  [['growth'], growth],
]

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping what this run started`)
    void cleanup().finally(() => process.exit(130))
  })
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'server.js'))) throw new Error('dist/server.js is missing: `npm run bench` builds it first (npm run build)')
  if (cpus().length < 2) throw new Error('the benchmark pins Tessera and the load generator to two different cores; this machine has one')
  mkdirSync(RESULTS, { recursive: true })
  const stamp = new Date()
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d+Z$/, 'Z')
  const logFile = join(RESULTS, `server-${stamp}.log`)
  const logLevel = args['log-level']
  const host = machine()
  log(`machine: ${host.nproc} cores, ${host.cpu}, node ${host.node}, load average ${host.loadavg.join(' ')}; code ${host.code}`)
  log(
    `plan: ${QUICK ? 'quick' : 'full'}: ${PLAN.runs} × ${PLAN.seconds} s after a ${PLAN.warmup} s warm-up, ${CONNECTIONS} connections; Tessera LOG_LEVEL=${logLevel}`,
  )

  const cluster = await startCluster()
  const kek = randomBytes(32).toString('hex')
  const server = await startTessera({ dbUrl: cluster.url, kek, logFile, logLevel })
  const lg = new LoadGenerator()
  log(`tessera pid ${server.child.pid} on core ${affinity(server.child.pid!)}; load generator pid ${lg.pid} on core ${affinity(lg.pid)}`)

  const db = await connect(cluster.url)
  const results: Record<string, Measured> = {}
  const profiles: Record<string, string> = {}
  try {
    const client = await seedClient(db)
    const users = await seedUsers(db, 'bench-pool-', POOL_USERS)
    const [passwordUser] = await seedUsers(db, 'bench-password-', 1)
    const [growthUser] = await seedUsers(db, 'bench-growth-', 1)
    const b: Bench = {
      plan: PLAN,
      logLevel,
      stamp,
      logFile,
      kek,
      dbUrl: cluster.url,
      db,
      lg,
      server,
      client,
      users,
      passwordUser: passwordUser!,
      growthUser: growthUser!,
      pool: [],
      nextUser: 0,
      wanted: (s) => ONLY.has(s),
      results,
    }
    if (PROFILE) await profileAll(b, PROFILE, profiles, 'v8')
    else if (PERF) await profileAll(b, PERF, profiles, 'perf')
    else for (const [when, step] of ORDER) if (when.some((s) => b.wanted(s))) await step(b)
  } finally {
    await db.end().catch(() => {})
    await lg.close()
    await cleanup()
    host.loadavg = loadAverage()
    const doc = { stamp, quick: QUICK, plan: PLAN, connections: CONNECTIONS, logLevel, machine: host, summary: summary(results), results, profiles }
    writeResults(stamp, doc)
  }
  if (PROFILE || PERF) process.stdout.write(`${Object.values(profiles).join('\n\n')}\n`)
  else report(results, host)
}

/** The median of every window of the baselines taken before and after a measurement. */
function bracketed(...baselines: (Measured | undefined)[]): number | undefined {
  const rates = baselines.flatMap((m) => m?.runs.map((r) => (typeof r === 'number' ? r : (r as { rps: number }).rps)) ?? [])
  return rates.length ? median(rates) : undefined
}

function summary(r: Record<string, Measured>) {
  const nextToRefresh = r.signForRefresh ? bracketed(r.signForRefresh, r.signAfterRefresh) : bracketed(r.sign, r.signAfter)
  const codeSign = r.signForCode ? bracketed(r.signForCode, r.signAfterCode) : bracketed(r.sign, r.signAfter)
  return {
    cc_vs_sign: ratio(r.client_credentials?.rps, bracketed(r.sign, r.signAfter)),
    // A refresh signs twice (the access and the next refresh token).
    refresh_vs_sign: ratio(r.refresh?.rps, nextToRefresh !== undefined ? nextToRefresh / 2 : undefined),
    // A code exchange with scope openid signs three times (access, refresh and ID token).
    code_vs_sign: ratio(r.authorization_code?.rps, codeSign !== undefined ? codeSign / 3 : undefined),
    jwks_vs_fastify: ratio(r.jwks?.rps, r.fastify?.rps),
    password_vs_argon2: ratio(r.password?.rps, bracketed(r.argon2, r.argon2After)),
    growth_1m_vs_10k: ratio(r.growth?.p50, r.refresh?.p50),
    storm_jwks_p99_ms: r.stormProbe?.p99 ?? Number.NaN,
    limit_on_vs_off: ratio(r.ccLimitOn?.rps, r.ccLimitOff?.rps),
    metrics_on_vs_off: ratio(r.ccMetricsOn?.rps, r.ccMetricsOff?.rps),
  }
}

// A ratio without an entry is for information (code_vs_sign: issue 18 asks for the row, not a target).
const TARGETS: Partial<Record<keyof ReturnType<typeof summary>, { ok: (v: number) => boolean; says: string }>> = {
  cc_vs_sign: { ok: (v) => v >= 0.8, says: '≥ 0.80' },
  refresh_vs_sign: { ok: (v) => v >= 0.85, says: '≥ 0.85' },
  jwks_vs_fastify: { ok: (v) => v >= 0.9, says: '≥ 0.90' },
  password_vs_argon2: { ok: (v) => v >= 0.9, says: '≥ 0.90' },
  growth_1m_vs_10k: { ok: (v) => v <= 1.2, says: '≤ 1.2' },
  storm_jwks_p99_ms: { ok: (v) => v < 20, says: '< 20 ms' },
  limit_on_vs_off: { ok: (v) => v >= 0.95, says: '≥ 0.95' },
  metrics_on_vs_off: { ok: (v) => v >= 0.97, says: '≥ 0.97' },
}

function report(results: Record<string, Measured>, host: Machine) {
  const rows = [['measurement', 'rate', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'cores: server/loadgen']]
  for (const m of Object.values(results)) {
    const counted = m.unit === 'req/s'
    const cpu = m.cpu ? `${m.cpu.server.toFixed(2)}/${m.cpu.generator.toFixed(2)}` : '-'
    rows.push([
      m.name,
      `${fmt(m.rps, m.rps < 100 ? 1 : 0)} ${m.unit}`,
      fmt(m.p50, 2),
      fmt(m.p99, 2),
      counted ? String(m.non2xx) : '-',
      counted ? String(m.errors) : '-',
      cpu,
    ])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), '']
  for (const m of Object.values(results)) if (m.check || m.note) out.push(`${m.name}: ${[m.check && `checked: ${m.check}`, m.note].filter(Boolean).join('; ')}`)
  const bad = Object.values(results).filter((m) => m.non2xx || m.errors)
  out.push(bad.length ? `NON-2XX OR ERRORS in: ${bad.map((m) => m.name).join(', ')}` : 'non-2xx: 0 and errors: 0 everywhere')
  out.push(`machine: ${host.nproc} cores, ${host.cpu}, node ${host.node}; load average after the run ${host.loadavg.join(' ')}; code ${host.code}`)
  const s = summary(results)
  // Plain numbers (no thousands separators), so the line parses with a split on spaces and "=";
  // three decimals, so that a ratio just under its target never prints as the target.
  const plain = (k: keyof typeof s) => (Number.isFinite(s[k]) ? s[k].toFixed(k === 'storm_jwks_p99_ms' ? 1 : 3) : 'n/a')
  const keys = Object.keys(s) as (keyof typeof s)[]
  const verdict = (k: keyof typeof s) => {
    const target = TARGETS[k]
    if (!target) return 'for information'
    return `${target.says}: ${Number.isFinite(s[k]) ? (target.ok(s[k]) ? 'met' : 'NOT met') : 'not measured'}`
  }
  out.push(`targets: ${keys.map((k) => `${k} ${plain(k)} (${verdict(k)})`).join('; ')}`)
  out.push(`summary: ${keys.map((k) => `${k}=${plain(k)}`).join(' ')}`)
  process.stdout.write(`${out.join('\n')}\n`)
}

try {
  await main()
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`)
  await cleanup()
  process.exit(1)
}
