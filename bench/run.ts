// `npm run bench`: measures Tessera against the limits of the one core it runs on (issue 5).
// Starts its own Postgres, seeds it, starts `node dist/server.js` pinned to core 0 and a load
// generator pinned to core 1, takes the baselines on core 0 in the same run (before and after the measurement each divides), and prints a table
// and, as its last line, the summary of ratios. Raw figures go to bench/results/.
//
//   npm run bench                      3 runs of 10 s per measurement (median), after a warm-up
//   npm run bench -- --quick           1 run of 3 s each: a smoke check
//   npm run bench -- --only=sign,client_credentials
//                                      a subset of STEPS (a ratio needs both of its steps)
//   npm run bench -- --profile=client_credentials,refresh
//                                      instead: each of these loads (PROFILED) against a server
//                                      under `node --cpu-prof`, then its top costs (bench/profile.ts)
//   npm run bench -- --perf=sign,refresh
//                                      instead: the same loads, and the jose sign baseline, under
//                                      Linux `perf` (every thread, kernel included): the share of
//                                      CPU that is RSA arithmetic, and where the rest goes (lib/perf.ts)
//   npm run bench -- --log-level=info  Tessera's LOG_LEVEL (default warn)
import { type ChildProcess, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { assert, checkClientCredentials, checkIntrospection, checkJwks, checkUserTokens, fetchJwks, type Target } from './lib/checks.js'
import { formatPerf, havePerf, startPerf, stopPerf, summarisePerf } from './lib/perf.js'
import { affinity, cpuTicks, exited, freePort, pinTree, spawnPinned, stop, waitForHttp, waitIdle } from './lib/proc.js'
import type { LoadResult, LoadSpec, RefreshResult, Reply, StormResult, StormSpec, Task } from './lib/protocol.js'
import { activeKid, type BenchClient, type BenchUser, connect, countFamilies, PASSWORD, seedClient, seedFamilies, seedUsers } from './lib/seed.js'
import { fmt, median, ratio } from './lib/stats.js'
import { formatSummary, summariseProfile } from './profile.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RESULTS = join(ROOT, 'bench', 'results')
const SERVER_CORE = 0
const LOAD_CORE = 1

const STEPS = ['sign', 'node-sign', 'argon2', 'fastify', 'jwks', 'client_credentials', 'introspect', 'password', 'refresh', 'storm', 'growth'] as const
type Step = (typeof STEPS)[number]

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
const CONNECTIONS = 50
/** Refresh tokens ready before each refresh run: far more than can be in flight (one per connection). */
const POOL_TARGET = 4 * CONNECTIONS
const POOL_USERS = 20
const FAMILIES_SMALL = 10_000
const FAMILIES_LARGE = 1_000_000
const PROBE_RATE = 200

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
/** The Tessera loads --profile can run. */
const PROFILED: Step[] = ['jwks', 'client_credentials', 'introspect', 'password', 'refresh']
const PROFILE = args.profile !== undefined ? stepsFrom(args.profile, PROFILED) : undefined
/** --perf takes the same loads, and the jose sign baseline to set them against. */
const PERF = args.perf !== undefined ? stepsFrom(args.perf, [...PROFILED, 'sign']) : undefined
const ONLY = stepsFrom(args.only, STEPS)
const wanted = (s: Step) => !PROFILE && !PERF && ONLY.has(s)

const started = Date.now()
const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${msg}\n`)

// ---------------------------------------------------------------------------------------------
// Processes this run starts, so that every exit path stops them (by pid) and nothing else.

interface Cluster {
  url: string
  port: number
  dir: string
  stop(): void
}
let cluster: Cluster | undefined
const children = new Set<ChildProcess>()

function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 'SIGTERM', 5_000)))
  try {
    cluster?.stop()
  } catch (err) {
    log(`stopping Postgres: ${(err as Error).message}`)
  }
  cluster = undefined
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping what this run started`)
    void cleanup().finally(() => process.exit(130))
  })
}

// ---------------------------------------------------------------------------------------------
// The load generator on core 1, spoken to over IPC.

class LoadGenerator {
  #child: ChildProcess
  #next = 1
  #pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>()

  constructor() {
    this.#child = track(
      spawnPinned(LOAD_CORE, ['--import', 'tsx', join(ROOT, 'bench', 'load.ts')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    )
    this.#child.on('message', (reply: Reply) => {
      const p = this.#pending.get(reply.id)
      this.#pending.delete(reply.id)
      if (reply.ok) p?.resolve(reply.result)
      else p?.reject(new Error(`load generator: ${reply.error}`))
    })
    this.#child.once('exit', (code, signal) => {
      for (const p of this.#pending.values()) p.reject(new Error(`load generator exited (${code ?? signal})`))
      this.#pending.clear()
    })
  }

  get pid(): number {
    return this.#child.pid!
  }

  #send<T>(task: Task): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(task.id, { resolve: resolve as (r: unknown) => void, reject })
      this.#child.send(task)
    })
  }

  load(spec: LoadSpec): Promise<LoadResult> {
    return this.#send({ id: this.#next++, kind: 'load', spec })
  }

  refresh(spec: Omit<LoadSpec, 'body'>, pool: string[]): Promise<RefreshResult> {
    return this.#send({ id: this.#next++, kind: 'refresh', spec: { ...spec, pool } })
  }

  storm(spec: StormSpec): Promise<StormResult> {
    return this.#send({ id: this.#next++, kind: 'storm', spec })
  }

  async close(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect()
    await Promise.race([exited(this.#child), new Promise((r) => setTimeout(r, 5_000))])
    await stop(this.#child)
  }
}

// ---------------------------------------------------------------------------------------------
// Tessera on core 0.

interface Server {
  child: ChildProcess
  base: string
  target: Target
}

/**
 * Node flags for a process that perf samples: perf names JIT-compiled JavaScript from
 * /tmp/perf-<pid>.map, which --perf-basic-prof writes. The flag also starts V8's log, which would
 * otherwise land as isolate-*.log in the working directory (the repository): it goes to `dir`.
 */
const perfMapFlags = (dir: string): string[] => ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${join(dir, 'v8.log')}`]

async function startTessera(db: string, kek: string, opts: { profileDir?: string; perfDir?: string; logFile: string }): Promise<Server> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER: base,
    DATABASE_URL: db,
    KEY_ENCRYPTION_KEY: kek,
    LOG_LEVEL: args['log-level'],
  }
  const nodeArgs = [
    ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : []),
    ...(opts.perfDir ? perfMapFlags(opts.perfDir) : []),
    join(ROOT, 'dist', 'server.js'),
  ]
  const out = openSync(opts.logFile, 'a')
  const child = track(spawnPinned(SERVER_CORE, nodeArgs, { cwd: ROOT, env, stdio: ['ignore', out, out] }))
  child.once('exit', () => closeSync(out))
  await waitForHttp(`${base}/readyz`, child)
  return { child, base, target: { base, issuer: base, audience: 'api' } }
}

// ---------------------------------------------------------------------------------------------
// Measurements.

interface Measured {
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

interface Cpu {
  server: number
  generator: number
}

/** Starts counting the CPU the server and the load generator use; the returned function reads it, in cores. */
function cpuMeter(server: number, generator: number): () => Cpu {
  const t0 = performance.now()
  const s0 = cpuTicks(server)
  const g0 = cpuTicks(generator)
  return () => {
    const secs = (performance.now() - t0) / 1000
    const cores = (ticks: number) => Number((ticks / 100 / secs).toFixed(2))
    return { server: cores(cpuTicks(server) - s0), generator: cores(cpuTicks(generator) - g0) }
  }
}

/** The plan's load shape for `spec`: its warm-up, then `runs` windows (the plan's, unless told). */
const shaped = (spec: Omit<LoadSpec, 'connections' | 'warmup' | 'runs' | 'seconds'>, runs = PLAN.runs): LoadSpec => ({
  ...spec,
  connections: CONNECTIONS,
  warmup: PLAN.warmup,
  runs,
  seconds: PLAN.seconds,
})

function aggregate(name: string, load: LoadResult, extra: Partial<Measured> = {}): Measured {
  return fromRuns(name, load.runs, { non2xx: load.non2xx, errors: load.errors, warmup: load.warmup, ...extra })
}

/** A row from measured windows: the median of their rate and latencies. */
function fromRuns(name: string, runs: LoadResult['runs'], extra: Partial<Measured> & Pick<Measured, 'non2xx' | 'errors'>): Measured {
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

function logRuns(load: LoadResult, cpu: Cpu): void {
  log(
    `  warm-up ${load.warmup.seconds.toFixed(1)} s (${load.warmup.requests} answers) until every connection had an answer; CPU used: server ${cpu.server}, load generator ${cpu.generator} (cores)`,
  )
  load.runs.forEach((r, i) => {
    log(`  run ${i + 1}: ${fmt(r.rps, r.rps < 100 ? 1 : 0)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}`)
  })
  if (load.non2xx || load.errors) log(`  over the whole load: non-2xx ${load.non2xx}, errors ${load.errors}, status codes ${JSON.stringify(load.statusCodes)}`)
}

/** Lets a server finish what a stopped load left in flight, so the next load starts from idle. */
async function settle(pid: number): Promise<void> {
  const waited = await waitIdle(pid)
  if (waited > 1_000) log(`  (waited ${(waited / 1000).toFixed(1)} s for the server to finish the requests left in flight)`)
}

const announce = (name: string, runs = PLAN.runs) => log(`${name}: warm-up ≥ ${PLAN.warmup} s, then ${runs} × ${PLAN.seconds} s at ${CONNECTIONS} connections`)

async function measure(
  lg: LoadGenerator,
  pid: number,
  name: string,
  spec: Omit<LoadSpec, 'connections' | 'warmup' | 'runs' | 'seconds'>,
  runs = PLAN.runs,
): Promise<{ m: Measured; sample?: string }> {
  announce(name, runs)
  await settle(pid)
  const cpu = cpuMeter(pid, lg.pid)
  const load = await lg.load(shaped(spec, runs))
  const used = cpu()
  await settle(pid)
  logRuns(load, used)
  const m = aggregate(name, load, { cpu: used })
  return load.sample !== undefined ? { m, sample: load.sample } : { m }
}

async function baseline(name: string, mode: string, extra: string[], idle: number): Promise<Measured> {
  log(`${name}: ${PLAN.baselineRuns} × ${PLAN.baselineSeconds} s on core ${SERVER_CORE}`)
  await settle(idle)
  const child = track(
    spawnPinned(
      SERVER_CORE,
      [
        '--import',
        'tsx',
        join(ROOT, 'bench', 'baselines.ts'),
        mode,
        '--runs',
        String(PLAN.baselineRuns),
        '--seconds',
        String(PLAN.baselineSeconds),
        '--warmup',
        String(PLAN.baselineWarmup),
        ...extra,
      ],
      { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  )
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  await exited(child)
  if (child.exitCode !== 0) throw new Error(`baseline ${mode} exited with ${child.exitCode ?? child.signalCode}`)
  const { runs } = JSON.parse(out.trim().split('\n').at(-1)!) as { runs: number[] }
  log(`  ${runs.map((r) => fmt(r)).join(', ')} ops/s`)
  return { name, unit: 'ops/s', rps: median(runs), non2xx: 0, errors: 0, runs }
}

/** One window of the bare Fastify route serving `jwks`, in a process of its own. */
async function bareJwksRun(lg: LoadGenerator, jwksFile: string, jwks: string, name: string): Promise<Measured> {
  const child = track(
    spawnPinned(SERVER_CORE, ['--import', 'tsx', join(ROOT, 'bench', 'baselines.ts'), 'fastify', '--jwks', jwksFile], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  )
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const line = out.split('\n')[0]
        if (out.includes('\n') && line) resolve((JSON.parse(line) as { port: number }).port)
      })
      child.once('exit', (code) => reject(new Error(`bare fastify exited (${code})`)))
    })
    const url = `http://127.0.0.1:${port}`
    const { m } = await measure(lg, child.pid!, name, { url, method: 'GET', path: '/.well-known/jwks.json' }, 1)
    assert((await (await fetch(`${url}/.well-known/jwks.json`)).text()) === jwks, 'bare Fastify serves the same JWKS bytes as Tessera')
    return m
  } finally {
    await stop(child)
  }
}

/** One window of Tessera's JWKS, in a Tessera process of its own on the run's database and keys. */
async function tesseraJwksRun(s: Setup, jwks: string, name: string): Promise<{ m: Measured; check: string }> {
  const server = await startTessera(s.dbUrl, s.kek, { logFile: s.logFile })
  try {
    const { m } = await measure(s.ctx.lg, server.child.pid!, name, { url: server.base, method: 'GET', path: '/.well-known/jwks.json' }, 1)
    assert((await fetchJwks(server.target)).body === jwks, 'every Tessera process serves the same JWKS bytes')
    return { m, check: await checkJwks(server.target) }
  } finally {
    await stop(server.child)
  }
}

/** Runs measured one per process, as one row: the median of the runs, the non-2xx and errors of all. */
function perProcess(name: string, measured: Measured[], extra: Partial<Measured>): Measured {
  const mean = (f: (c: Cpu) => number) => Number((measured.reduce((n, m) => n + (m.cpu ? f(m.cpu) : 0), 0) / measured.length).toFixed(2))
  return fromRuns(
    name,
    measured.flatMap((m) => m.runs as LoadResult['runs']),
    {
      non2xx: measured.reduce((n, m) => n + m.non2xx, 0),
      errors: measured.reduce((n, m) => n + m.errors, 0),
      cpu: { server: mean((c) => c.server), generator: mean((c) => c.generator) },
      ...extra,
    },
  )
}

/**
 * The JWKS and its baseline, the bare Fastify route serving the same bytes: each of the plan's
 * runs in a fresh process of each, alternating (bare then Tessera, Tessera then bare, …), so that
 * neither side's figure is one process's draw and a drift over the minutes reaches both alike.
 * A route this cheap (tens of µs a request) costs what its process's JIT and the host's
 * neighbours make it: the bare route alone used 35 to 55 µs of CPU a request from one process to
 * the next on this machine (BENCHMARKS.md, "JWKS in fresh processes").
 */
async function measureJwks(s: Setup, results: Record<string, Measured>): Promise<void> {
  const jwks = (await fetchJwks(s.ctx.server.target)).body
  const jwksFile = join(RESULTS, `jwks-${s.stamp}.json`)
  writeFileSync(jwksFile, jwks)
  const bare: Measured[] = []
  const tessera: Measured[] = []
  let check = ''
  for (let i = 0; i < PLAN.runs; i++) {
    const sides = i % 2 === 0 ? (['fastify', 'jwks'] as const) : (['jwks', 'fastify'] as const)
    for (const side of sides) {
      if (!wanted(side)) continue
      const label = ` (run ${i + 1}, a fresh process)`
      if (side === 'fastify') bare.push(await bareJwksRun(s.ctx.lg, jwksFile, jwks, `baseline: bare Fastify 5, same JWKS bytes${label}`))
      else {
        const r = await tesseraJwksRun(s, jwks, `GET /.well-known/jwks.json${label}`)
        tessera.push(r.m)
        check = r.check
      }
    }
    const [b, t] = [bare[i], tessera[i]]
    if (b && t) log(`  run ${i + 1}: Tessera ${fmt(t.rps)} ÷ bare ${fmt(b.rps)} req/s = ${(t.rps / b.rps).toFixed(3)}`)
  }
  const each = (ms: Measured[]) => `runs in ${ms.length} fresh processes, alternating with the other side: ${ms.map((m) => fmt(m.rps)).join(' / ')} req/s`
  if (bare.length)
    results.fastify = perProcess('baseline: bare Fastify 5, same JWKS bytes', bare, { check: 'serves the same bytes as Tessera', note: each(bare) })
  if (tessera.length) results.jwks = perProcess('GET /.well-known/jwks.json', tessera, { check, note: each(tessera) })
}

// ---------------------------------------------------------------------------------------------
// The run.

interface Context {
  lg: LoadGenerator
  server: Server
  client: BenchClient
  users: BenchUser[]
  pool: string[]
  nextUser: number
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString()
const formHeaders = (client: BenchClient) => ({ 'content-type': 'application/x-www-form-urlencoded', authorization: client.basic })

async function signIn(ctx: Context, user: BenchUser): Promise<{ access_token: string; refresh_token: string }> {
  const res = await fetch(`${ctx.server.base}/token`, {
    method: 'POST',
    headers: formHeaders(ctx.client),
    body: form({ grant_type: 'password', username: user.email, password: PASSWORD }),
  })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${body}`)
  return JSON.parse(body) as { access_token: string; refresh_token: string }
}

/** Real families, made through the password grant before the timed window, 8 sign-ins at a time. */
async function fillPool(ctx: Context): Promise<void> {
  const before = ctx.pool.length
  while (ctx.pool.length < POOL_TARGET) {
    const batch = Math.min(8, POOL_TARGET - ctx.pool.length)
    const users = Array.from({ length: batch }, () => ctx.users[ctx.nextUser++ % ctx.users.length]!)
    const tokens = await Promise.all(users.map((u) => signIn(ctx, u)))
    ctx.pool.push(...tokens.map((t) => t.refresh_token))
  }
  if (ctx.pool.length > before) log(`  refresh pool: ${ctx.pool.length - before} families signed in through the password grant (${ctx.pool.length} ready)`)
}

/** `before` runs once the pool is ready, right before the load (the sign baseline, next to what it is compared with). */
async function measureRefresh(ctx: Context, name: string, before?: () => Promise<void>): Promise<{ m: Measured; sample?: string }> {
  await fillPool(ctx)
  await before?.()
  announce(name)
  const pid = ctx.server.child.pid!
  await settle(pid)
  const cpu = cpuMeter(pid, ctx.lg.pid)
  const load = await ctx.lg.refresh(shaped({ url: ctx.server.base, method: 'POST', path: '/token', headers: formHeaders(ctx.client) }), ctx.pool)
  const used = cpu()
  await settle(pid)
  ctx.pool = load.pool
  logRuns(load, used)
  const note = `pool of ${POOL_TARGET} families; ${load.discarded} tokens in flight at the stop discarded${load.exhausted ? `; POOL EXHAUSTED ${load.exhausted}×` : ''}`
  log(`  ${note}`)
  const m = aggregate(name, load, { note, cpu: used })
  return load.sample !== undefined ? { m, sample: load.sample } : { m }
}

async function checkRefreshSample(sample: string | undefined, ctx: Context): Promise<string> {
  if (sample === undefined) return 'NO 200 in the load to check'
  await checkUserTokens(sample, ctx.server.target, ctx.client.id)
  return 'a 200 of the load carries an access and a refresh token that verify against the JWKS, same sid'
}

/** Presents a token of the pool, checks the answer, then presents the spent token again: it must be refused. */
async function checkRotation(ctx: Context): Promise<string> {
  const presented = ctx.pool.shift()
  assert(presented, 'a token in the pool')
  const refresh = (token: string) =>
    fetch(`${ctx.server.base}/token`, { method: 'POST', headers: formHeaders(ctx.client), body: form({ grant_type: 'refresh_token', refresh_token: token }) })
  const res = await refresh(presented)
  const body = await res.text()
  assert(res.status === 200, `refresh answers 200 (got ${res.status} ${body})`)
  await checkUserTokens(body, ctx.server.target, ctx.client.id)
  const replay = await refresh(presented)
  const replayBody = (await replay.json()) as { error?: string }
  assert(replay.status === 400 && replayBody.error === 'invalid_grant', `a spent refresh token is refused with invalid_grant (got ${replay.status})`)
  // That replay revoked the family (reuse detection), so its new token does not go back to the pool.
  return 'one more rotation answers 200 with valid tokens, and the token it spent is then refused (invalid_grant)'
}

function machine() {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown'
  return { nproc: cpus().length, cpu: model, node: process.version, loadavg: loadavg().map((l) => Number(l.toFixed(2))), code: codeVersion() }
}

/** The commit measured, and whether src/ differed from it (the figures are of the working tree's build). */
function codeVersion(): string {
  try {
    const git = (...a: string[]) => execFileSync('git', a, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length
    return `${git('rev-parse', '--short', 'HEAD')}${changed ? ` + ${changed} uncommitted change(s) under src/` : ''}`
  } catch {
    return 'unknown (not a git checkout)'
  }
}

interface Setup {
  stamp: string
  logFile: string
  kek: string
  dbUrl: string
  db: Awaited<ReturnType<typeof connect>>
  ctx: Context
  passwordUser: BenchUser
  growthUser: BenchUser
}

const post = (ctx: Context, path: string, body: string): Omit<LoadSpec, 'connections' | 'warmup' | 'runs' | 'seconds'> => ({
  url: ctx.server.base,
  method: 'POST',
  path,
  headers: formHeaders(ctx.client),
  body,
})

async function measureAll(s: Setup, results: Record<string, Measured>): Promise<void> {
  const { ctx, db, passwordUser, growthUser } = s
  const { lg, client, users } = ctx
  const target = ctx.server.target
  const passwordBody = form({ grant_type: 'password', username: passwordUser.email, password: PASSWORD })
  const pid = ctx.server.child.pid!

  // Each baseline runs on Tessera's core (Tessera idle) right before *and* right after the
  // measurement it is the denominator of, and the ratio divides by the median of both sets of
  // windows: on a shared machine the background load drifts over minutes, and a ratio of two
  // figures taken far apart, or on one side of a change, would measure the drift. The JWKS and
  // the bare route alternate instead, each run in fresh processes (measureJwks).
  const sign = (label: string) => baseline(`baseline: jose RS256 sign, RSA-2048${label}`, 'sign', ['--concurrency', String(CONNECTIONS)], pid)
  const argon2 = (label: string) => baseline(`baseline: argon2id hash, Tessera parameters${label}`, 'argon2', ['--concurrency', String(CONNECTIONS)], pid)

  if (wanted('fastify') || wanted('jwks')) await measureJwks(s, results)
  if (wanted('sign')) results.sign = await sign('')
  if (wanted('client_credentials')) {
    const { m, sample } = await measure(lg, pid, 'POST /token client_credentials', post(ctx, '/token', form({ grant_type: 'client_credentials' })))
    results.client_credentials = { ...m, check: await checkClientCredentials(sample ?? '{}', target, client.id) }
    if (wanted('sign')) results.signAfter = await sign(' (again, after)')
  }
  if (wanted('node-sign'))
    results['node-sign'] = await baseline('baseline: node:crypto RS256 sign, sync, 1 in flight (for information)', 'node-sign', ['--concurrency', '1'], pid)
  if (wanted('introspect')) {
    const { access_token } = await signIn(ctx, users[0]!)
    const { m, sample } = await measure(lg, pid, 'POST /introspect (a user access token)', post(ctx, '/introspect', form({ token: access_token })))
    results.introspect = { ...m, check: await checkIntrospection(sample ?? '{}', users[0]!.id, client.id) }
  }
  if (wanted('argon2')) results.argon2 = await argon2('')
  if (wanted('password')) {
    const { m, sample } = await measure(lg, pid, 'POST /token password', post(ctx, '/token', passwordBody))
    results.password = { ...m, check: (await checkUserTokens(sample ?? '{}', target, client.id, passwordUser.id)).note }
    if (wanted('argon2')) results.argon2After = await argon2(' (again, after)')
  }
  if (wanted('refresh') || wanted('growth')) {
    const added = await seedFamilies(db, { total: FAMILIES_SMALL, userId: growthUser.id, clientId: client.id, kid: await activeKid(db) })
    log(`refresh_families: ${fmt(await countFamilies(db))} rows (${fmt(added)} of them seeded by SQL)`)
  }
  if (wanted('refresh')) {
    const before = wanted('sign')
      ? async () => {
          results.signForRefresh = await sign(' (again, next to refresh)')
        }
      : undefined
    const { m, sample } = await measureRefresh(ctx, `POST /token refresh_token (${fmt(FAMILIES_SMALL)} families)`, before)
    results.refresh = { ...m, check: `${await checkRefreshSample(sample, ctx)}; ${await checkRotation(ctx)}` }
    if (wanted('sign')) results.signAfterRefresh = await sign(' (again, after refresh)')
  }
  if (wanted('storm')) {
    const name = `storm: ${CONNECTIONS} concurrent password sign-ins`
    announce(name)
    log(`  and, once they are at steady state, the JWKS probed at ${PROBE_RATE} req/s (open loop) for each run`)
    await settle(pid)
    const cpu = cpuMeter(pid, lg.pid)
    const r = await lg.storm({
      storm: shaped(post(ctx, '/token', passwordBody)),
      probe: { url: ctx.server.base, path: '/.well-known/jwks.json', rate: PROBE_RATE },
    })
    const used = cpu()
    await settle(pid)
    logRuns(r.storm, used)
    r.probe.forEach((p, i) => {
      log(`  probe run ${i + 1}: JWKS p50 ${fmt(p.p50, 2)} ms, p99 ${fmt(p.p99, 2)} ms, non-2xx ${p.non2xx}, errors ${p.errors}`)
    })
    results.storm = aggregate(name, r.storm, { cpu: used })
    const probe = r.probe
    results.stormProbe = {
      name: `storm: JWKS probe at ${PROBE_RATE} req/s during it`,
      unit: 'req/s',
      rps: median(probe.map((p) => p.rps)),
      p50: median(probe.map((p) => p.p50)),
      p99: median(probe.map((p) => p.p99)),
      non2xx: probe.reduce((n, p) => n + p.non2xx, 0),
      errors: probe.reduce((n, p) => n + p.errors, 0),
      runs: probe,
    }
  }
  if (wanted('growth')) {
    const t0 = Date.now()
    const added = await seedFamilies(db, { total: FAMILIES_LARGE, userId: growthUser.id, clientId: client.id, kid: await activeKid(db) })
    log(`refresh_families: ${fmt(await countFamilies(db))} rows (${fmt(added)} seeded by SQL generate_series in ${((Date.now() - t0) / 1000).toFixed(1)} s)`)
    const { m, sample } = await measureRefresh(ctx, `POST /token refresh_token (${fmt(FAMILIES_LARGE)} families)`)
    results.growth = { ...m, check: await checkRefreshSample(sample, ctx) }
  }
}

/**
 * Each profiled load against a server of its own. `v8`: started under `node --cpu-prof` and
 * stopped gracefully (V8 writes the profile at exit). `perf`: `perf record` on every thread of
 * the server during the load (bench/lib/perf.ts). Either way only the timed window's samples
 * are summarised.
 */
async function profileAll(s: Setup, steps: Set<Step>, profiles: Record<string, string>, tool: 'v8' | 'perf'): Promise<void> {
  const { ctx, db } = s
  if (tool === 'perf' && !havePerf()) throw new Error('--perf needs Linux perf (Debian: apt-get install linux-perf)')
  await seedFamilies(db, { total: FAMILIES_SMALL, userId: s.growthUser.id, clientId: ctx.client.id, kid: await activeKid(db) })
  await stop(ctx.server.child)
  for (const step of steps) {
    const dir = join(RESULTS, 'profiles', `${s.stamp}-${tool === 'perf' ? 'perf-' : ''}${step}`)
    mkdirSync(dir, { recursive: true })
    if (step === 'sign') {
      profiles[step] = await perfSignBaseline(dir)
      continue
    }
    ctx.server = await startTessera(s.dbUrl, s.kek, tool === 'perf' ? { logFile: s.logFile, perfDir: dir } : { logFile: s.logFile, profileDir: dir })
    const pid = ctx.server.child.pid!
    const recorder = tool === 'perf' ? track(await startPerf(pid, join(dir, 'perf.data'), LOAD_CORE)) : undefined
    // One timed window after the warm-up; only its samples are summarised.
    const base = {
      url: ctx.server.base,
      method: 'POST' as const,
      path: '/token',
      headers: formHeaders(ctx.client),
      connections: CONNECTIONS,
      warmup: PLAN.warmup,
      runs: 1,
      seconds: PLAN.seconds,
    }
    let load: LoadResult
    if (step === 'refresh') {
      await fillPool(ctx)
      const rr = await ctx.lg.refresh(base, ctx.pool)
      ctx.pool = rr.pool
      load = rr
    } else if (step === 'client_credentials') {
      load = await ctx.lg.load({ ...base, body: form({ grant_type: 'client_credentials' }) })
    } else if (step === 'password') {
      load = await ctx.lg.load({ ...base, body: form({ grant_type: 'password', username: s.passwordUser.email, password: PASSWORD }) })
    } else if (step === 'introspect') {
      const { access_token } = await signIn(ctx, ctx.users[0]!)
      load = await ctx.lg.load({ ...base, path: '/introspect', body: form({ token: access_token }) })
    } else if (step === 'jwks') {
      const { headers: _headers, ...get } = base
      load = await ctx.lg.load({ ...get, method: 'GET', path: '/.well-known/jwks.json' })
    } else {
      throw new Error(`--profile takes ${PROFILED.join(', ')}, not ${step}`)
    }
    if (recorder) await stopPerf(recorder)
    await settle(pid)
    const r = load.runs[0]!
    log(`profile ${step}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, non-2xx ${r.non2xx}, errors ${r.errors}`)
    await stop(ctx.server.child)
    if (tool === 'perf') {
      const text = formatPerf(`${step} at ${fmt(r.rps)} req/s`, summarisePerf(join(dir, 'perf.data'), pid, load.window))
      rmSync(`/tmp/perf-${pid}.map`, { force: true })
      writeFileSync(join(dir, 'summary.txt'), `${text}\n`)
      profiles[step] = text
      continue
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
    if (!file) throw new Error(`no .cpuprofile written in ${dir}`)
    const title = `${step} at ${fmt(r.rps)} req/s (${join('bench', 'results', 'profiles', `${s.stamp}-${step}`, file)})`
    const text = formatSummary(title, summariseProfile(join(dir, file), { from: load.window[0], to: load.window[1] }))
    writeFileSync(join(dir, 'summary.txt'), `${text}\n`)
    profiles[step] = text
  }
}

/**
 * The jose sign baseline under perf: 50 signs in flight on core 0, as measured, sampled for
 * 8 s once it is signing. Its RSA share is what a load's RSA share is set against.
 */
async function perfSignBaseline(dir: string): Promise<string> {
  const child = track(
    spawnPinned(
      SERVER_CORE,
      [...perfMapFlags(dir), '--import', 'tsx', join(ROOT, 'bench', 'baselines.ts'), 'sign', '--runs', '1', '--seconds', '12', '--warmup', '3'],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    ),
  )
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

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'server.js'))) throw new Error('dist/server.js is missing: `npm run bench` builds it first (npm run build)')
  if (cpus().length < 2) throw new Error('the benchmark pins Tessera and the load generator to two different cores; this machine has one')
  mkdirSync(RESULTS, { recursive: true })
  const stamp = new Date()
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d+Z$/, 'Z')
  const logFile = join(RESULTS, `server-${stamp}.log`)
  const host = machine()
  log(`machine: ${host.nproc} cores, ${host.cpu}, node ${host.node}, load average ${host.loadavg.join(' ')}; code ${host.code}`)
  log(
    `plan: ${QUICK ? 'quick' : 'full'}: ${PLAN.runs} × ${PLAN.seconds} s after a ${PLAN.warmup} s warm-up, ${CONNECTIONS} connections; Tessera LOG_LEVEL=${args['log-level']}`,
  )

  const { startPostgres } = (await import(new URL('../scripts/postgres.mjs', import.meta.url).href)) as {
    startPostgres: (o?: { settings?: Record<string, string | number> }) => Promise<Cluster>
  }
  cluster = await startPostgres({ settings: { max_wal_size: '4GB', checkpoint_timeout: '30min' } })
  const postmaster = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  pinTree(postmaster, LOAD_CORE)
  log(`postgres on 127.0.0.1:${cluster.port}, pid ${postmaster}, pinned to core ${LOAD_CORE} with the load generator, off Tessera's core`)

  const kek = randomBytes(32).toString('hex')
  const server = await startTessera(cluster.url, kek, { logFile })
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
    const ctx: Context = { lg, server, client, users, pool: [], nextUser: 0 }
    const setup: Setup = { stamp, logFile, kek, dbUrl: cluster.url, db, ctx, passwordUser: passwordUser!, growthUser: growthUser! }
    if (PROFILE) await profileAll(setup, PROFILE, profiles, 'v8')
    else if (PERF) await profileAll(setup, PERF, profiles, 'perf')
    else await measureAll(setup, results)
  } finally {
    await db.end().catch(() => {})
    await lg.close()
    await cleanup()
    host.loadavg = loadavg().map((l) => Number(l.toFixed(2)))
    writeResults(stamp, host, results, profiles)
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
  return {
    cc_vs_sign: ratio(r.client_credentials?.rps, bracketed(r.sign, r.signAfter)),
    // A refresh signs twice (the access and the next refresh token).
    refresh_vs_sign: ratio(r.refresh?.rps, nextToRefresh !== undefined ? nextToRefresh / 2 : undefined),
    jwks_vs_fastify: ratio(r.jwks?.rps, r.fastify?.rps),
    password_vs_argon2: ratio(r.password?.rps, bracketed(r.argon2, r.argon2After)),
    growth_1m_vs_10k: ratio(r.growth?.p50, r.refresh?.p50),
    storm_jwks_p99_ms: r.stormProbe?.p99 ?? Number.NaN,
  }
}

const TARGETS: Record<keyof ReturnType<typeof summary>, { ok: (v: number) => boolean; says: string }> = {
  cc_vs_sign: { ok: (v) => v >= 0.8, says: '≥ 0.80' },
  refresh_vs_sign: { ok: (v) => v >= 0.85, says: '≥ 0.85' },
  jwks_vs_fastify: { ok: (v) => v >= 0.9, says: '≥ 0.90' },
  password_vs_argon2: { ok: (v) => v >= 0.9, says: '≥ 0.90' },
  growth_1m_vs_10k: { ok: (v) => v <= 1.2, says: '≤ 1.2' },
  storm_jwks_p99_ms: { ok: (v) => v < 20, says: '< 20 ms' },
}

function writeResults(stamp: string, host: ReturnType<typeof machine>, results: Record<string, Measured>, profiles: Record<string, string>) {
  const file = join(RESULTS, `bench-${stamp}.json`)
  const doc = {
    stamp,
    quick: QUICK,
    plan: PLAN,
    connections: CONNECTIONS,
    logLevel: args['log-level'],
    machine: host,
    summary: summary(results),
    results,
    profiles,
  }
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`)
  writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(doc, null, 2)}\n`)
  log(`raw figures: ${join('bench', 'results', `bench-${stamp}.json`)}`)
}

function report(results: Record<string, Measured>, host: ReturnType<typeof machine>) {
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
  const verdict = (k: keyof typeof s) => (Number.isFinite(s[k]) ? (TARGETS[k].ok(s[k]) ? 'met' : 'NOT met') : 'not measured')
  out.push(`targets: ${keys.map((k) => `${k} ${plain(k)} (${TARGETS[k].says}: ${verdict(k)})`).join('; ')}`)
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
