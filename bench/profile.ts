// Summarises a V8 .cpuprofile (`node --cpu-prof`): top functions by self time, time by package,
// and inclusive time of Tessera's own functions, optionally only inside a time window.
// Usage: node --import tsx bench/profile.ts <file.cpuprofile> [--top N] [--from µs --to µs]
// Reading it for a server pinned to one core: the profile is of the main thread only, so the RSA
// work libuv threads do for WebCrypto appears as (idle) and as self time of
// node:internal/crypto/util's jobPromise (the main thread is preempted as it hands the job over).
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface Row {
  name: string
  where: string
  ms: number
  share: number
}

export interface ProfileSummary {
  /** Sampled main-thread time inside the window, ms. */
  totalMs: number
  windowed: boolean
  top: Row[]
  packages: Row[]
  /** Inclusive time of functions in dist/ (Tessera's code): what each one costs with its callees. */
  inclusive: Row[]
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Where a frame's code lives: a package, node's internals, Tessera's dist/, or a V8 pseudo-frame. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  if (url.startsWith('node:')) return 'node:internal'
  const path = url.replace(/^file:\/\//, '')
  const nm = path.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/')
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  if (path.includes('/dist/')) return 'tessera'
  return relative(ROOT, path)
}

function where(frame: CallFrame): string {
  if (!frame.url) return ''
  const path = frame.url.replace(/^file:\/\//, '')
  const nm = path.lastIndexOf('/node_modules/')
  const short = nm >= 0 ? path.slice(nm + '/node_modules/'.length) : path.startsWith(ROOT) ? relative(ROOT, path) : path
  return `${short}:${frame.lineNumber + 1}`
}

export function summariseProfile(file: string, opts: { top?: number; from?: number; to?: number } = {}): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of profile.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }

  const self = new Map<string, Row>()
  const packages = new Map<string, Row>()
  const inclusive = new Map<string, Row>()
  const add = (m: Map<string, Row>, key: string, name: string, at: string, us: number) => {
    const row = m.get(key) ?? { name, where: at, ms: 0, share: 0 }
    row.ms += us / 1000
    m.set(key, row)
  }

  // Sample i was taken at startTime + timeDeltas[0..i]; its duration is the next delta.
  let t = profile.startTime
  let total = 0
  const inWindow = (at: number) => (opts.from === undefined || at >= opts.from) && (opts.to === undefined || at <= opts.to)
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0
    if (!inWindow(t)) continue
    const us = profile.timeDeltas[i + 1] ?? 0
    const node = byId.get(profile.samples[i]!)
    if (!node) continue
    total += us
    const f = node.callFrame
    const name = f.functionName || '(anonymous)'
    add(self, `${name}@${f.url}:${f.lineNumber}`, name, where(f), us)
    add(packages, packageOf(f.url, name), packageOf(f.url, name), '', us)
    // Inclusive: each of Tessera's functions on this stack, once.
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id)!.callFrame
      if (!cf.url.includes('/dist/') || cf.url.includes('/node_modules/')) continue
      const key = `${cf.functionName}@${cf.url}:${cf.lineNumber}`
      if (seen.has(key)) continue
      seen.add(key)
      add(inclusive, key, cf.functionName || '(anonymous)', where(cf), us)
    }
  }

  const rank = (m: Map<string, Row>, n: number) =>
    [...m.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, n)
      .map((r) => ({ ...r, share: total ? r.ms / (total / 1000) : 0 }))
  const windowed = opts.from !== undefined || opts.to !== undefined
  const top = opts.top ?? 25
  return { totalMs: total / 1000, windowed, top: rank(self, top), packages: rank(packages, 15), inclusive: rank(inclusive, top) }
}

export function formatSummary(title: string, s: ProfileSummary): string {
  const pct = (r: Row) => `${(r.share * 100).toFixed(1).padStart(5)}%`
  const lines = [`${title}: ${s.totalMs.toFixed(0)} ms of main-thread samples${s.windowed ? ' in the timed window' : ''}`]
  lines.push('  self time, by function:')
  for (const r of s.top) lines.push(`    ${pct(r)} ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`)
  lines.push('  self time, by package:')
  for (const r of s.packages) lines.push(`    ${pct(r)} ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`)
  lines.push("  inclusive time of Tessera's functions (dist/):")
  for (const r of s.inclusive) lines.push(`    ${pct(r)} ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`)
  return lines.join('\n')
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, from: { type: 'string' }, to: { type: 'string' } },
  })
  if (!positionals[0]) {
    process.stderr.write('usage: bench/profile.ts <file.cpuprofile> [--top N] [--from µs --to µs]\n')
    process.exit(2)
  }
  const opts = {
    top: Number(values.top),
    ...(values.from !== undefined ? { from: Number(values.from) } : {}),
    ...(values.to !== undefined ? { to: Number(values.to) } : {}),
  }
  process.stdout.write(`${formatSummary(positionals[0], summariseProfile(positionals[0], opts))}\n`)
}
