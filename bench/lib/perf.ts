// Whole-process CPU profiles with Linux `perf` (bench/run.ts --perf=…).
//
// V8's --cpu-prof samples the main thread only, and on one pinned core it files the time a
// libuv thread spends signing under whatever the main thread was doing when it was preempted.
// `perf record -e cpu-clock` samples every thread of the process, kernel included, and needs
// no hardware counters (this VM has none). The question it answers for issue 5: of the CPU a
// load costs, how much is the RSA arithmetic itself? That share, against the same share in the
// jose sign baseline, does not move with the machine's noise the way req/s ÷ ops/s does.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { exited } from './proc.js'

/**
 * The RSA key operation itself: OpenSSL's big-number kernels (nearly all of it) and its RSA
 * routines (`RSA_*`, `rsa_ossl_*`: padding, blinding; about 0.2% of a refresh's samples).
 */
const RSA_LEAF = /^(__)?bn_|^BN_|mulx4x|sqrx8x|postx4x|powerx5|^rsaz_|^ossl_rsaz_|^ossl_extract_multiplier|^ossl_bn_|^RSA_|^rsa_ossl/
/** The rest of OpenSSL: algorithm lookups by name, contexts, hashing, error queue. */
const OPENSSL_LEAF = /OPENSSL|^EVP_|^ossl_|^OBJ_|^do_name|^CRYPTO_|sha256|^ERR_|^OSSL_|^evp_|^pkey_|^rsa_|^ASN1|^asn1|pthread_rwlock/
/** Frames that only carry a callback from the event loop to the code that asked for it. */
const PLUMBING = /^node:(internal\/process\/task_queues|internal\/async_hooks|async_hooks|events|internal\/timers|timers)$/

export interface PerfSummary {
  samples: number
  seconds: number
  /** Share of the samples (0–1) by where the time went. */
  where: [string, number][]
  /** Share of the samples on the process's main thread. */
  mainThread: number
  rsa: number
}

export function havePerf(): boolean {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Starts sampling every thread of `pid` at 999 Hz, timestamps on CLOCK_MONOTONIC (as the load generator's window). */
export async function startPerf(pid: number, file: string, core: number): Promise<ChildProcess> {
  const child = spawn(
    'taskset',
    ['-c', String(core), 'perf', 'record', '-q', '-k', 'mono', '-e', 'cpu-clock', '-F', '999', '-g', '-p', String(pid), '-o', file],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  await sleep(500) // attached well before the warm-up ends
  if (child.exitCode !== null) throw new Error(`perf record exited with ${child.exitCode}`)
  return child
}

/** Stops `perf record` the way it expects (SIGINT), so that it writes its file out. */
export async function stopPerf(child: ChildProcess): Promise<void> {
  const gone = exited(child)
  child.kill('SIGINT')
  await Promise.race([gone, sleep(30_000)])
}

function where(frame: string): string | undefined {
  const sym = frame.replace(/^\s*[0-9a-f]+\s+/, '').replace(/\s+\([^)]*\)$/, '')
  if (!sym.startsWith('JS:') && !sym.startsWith('LazyCompile:')) return undefined
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(sym)
  if (pkg) return pkg[1]
  const own = /\/dist\/([^:]+):/.exec(sym)
  if (own) return `tessera ${own[1]}`
  const core = / (node:[^:]+):/.exec(sym)
  if (core) return PLUMBING.test(core[1]!) ? undefined : core[1]
  return undefined
}

/**
 * Folds `perf script` output: each sample goes to RSA if its leaf is OpenSSL's arithmetic, else
 * to the nearest JavaScript frame's package (a syscall's kernel time goes to the JS that made
 * it), else to native code by kind. `window` is [from, to] in CLOCK_MONOTONIC microseconds.
 */
export function summarisePerf(file: string, pid: number, window?: [number, number]): PerfSummary {
  const text = execFileSync('perf', ['script', '-i', file, '-F', 'tid,time,ip,sym,dso'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const counts = new Map<string, number>()
  let samples = 0
  let main = 0
  let rsa = 0
  let first = Infinity
  let last = -Infinity
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim())
    const head = /^\s*(\d+)\s+([\d.]+):/.exec(lines[0] ?? '')
    if (!head || lines.length < 2) continue
    const at = Number(head[2]) * 1e6
    if (window && (at < window[0] || at > window[1])) continue
    samples++
    first = Math.min(first, at)
    last = Math.max(last, at)
    if (Number(head[1]) === pid) main++
    const frames = lines.slice(1)
    const leaf = frames[0]!.replace(/^\s*[0-9a-f]+\s+/, '')
    let key: string | undefined
    if (RSA_LEAF.test(leaf)) {
      rsa++
      key = 'RSA arithmetic (OpenSSL bignum and RSA routines)'
    } else {
      for (const f of frames) {
        key = where(f)
        if (key) break
      }
      key ??= leaf.includes('[kernel')
        ? 'kernel, no JS on the stack (scheduler, epoll, thread wake-ups)'
        : OPENSSL_LEAF.test(leaf)
          ? 'OpenSSL, outside the arithmetic'
          : 'native, no JS on the stack (libuv, V8 GC, malloc)'
    }
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  const share = (n: number) => (samples ? n / samples : 0)
  return {
    samples,
    seconds: samples ? (last - first) / 1e6 : 0,
    where: [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, share(n)]),
    mainThread: share(main),
    rsa: share(rsa),
  }
}

export function formatPerf(title: string, s: PerfSummary, top = 20): string {
  const pct = (x: number) => `${(100 * x).toFixed(1).padStart(5)}%`
  const cores = s.seconds > 0 ? s.samples / 999 / s.seconds : 0
  return [
    `${title}: ${s.samples} samples over ${s.seconds.toFixed(1)} s (${cores.toFixed(2)} cores), every thread, kernel included`,
    `  RSA arithmetic: ${pct(s.rsa)} of the CPU; main thread ${pct(s.mainThread)}, other threads ${pct(1 - s.mainThread)}`,
    '  where the CPU went (JS by package, a syscall counted with the JS that made it):',
    ...s.where.slice(0, top).map(([k, v]) => `    ${pct(v)}  ${k}`),
  ].join('\n')
}
