// The machine and the code a run measured, and its raw figures in bench/results/ (bench-<stamp>.json and latest.json).
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { RESULTS, ROOT } from './context.js'
import { log } from './log.js'

export type Machine = ReturnType<typeof machine>

export const loadAverage = () => loadavg().map((l) => Number(l.toFixed(2)))

export function machine() {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? cpus()[0]?.model ?? 'unknown'
  return { nproc: cpus().length, cpu: model, node: process.version, loadavg: loadAverage(), code: codeVersion() }
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

export function writeResults(stamp: string, doc: object): void {
  const text = `${JSON.stringify(doc, null, 2)}\n`
  writeFileSync(join(RESULTS, `bench-${stamp}.json`), text)
  writeFileSync(join(RESULTS, 'latest.json'), text)
  log(`raw figures: ${join('bench', 'results', `bench-${stamp}.json`)}`)
}
