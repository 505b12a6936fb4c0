// Runs the real `tessera` CLI as an operator would: a child process in its own working
// directory, with a clean environment. Shared by the CLI tests.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type t from 'tap'
import { cleanEnv } from './process.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const ENTRY = join(ROOT, 'src', 'cli', 'index.ts')
// Absolute, so that the CLI's working directory can be a throwaway one.
const TSX = import.meta.resolve('tsx')

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

export interface Where {
  cwd: string
  env: Record<string, string>
}

export function tessera(where: Where, ...args: string[]): Promise<Run> {
  return piped(where, undefined, args)
}

/** As `tessera`, with `input` on standard input (then its end). */
export function tesseraWithInput(where: Where, input: string, ...args: string[]): Promise<Run> {
  return piped(where, input, args)
}

function piped(where: Where, input: string | undefined, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, ENTRY, ...args], {
      cwd: where.cwd,
      env: { ...cleanEnv(), TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), ...where.env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    if (input !== undefined) child.stdin!.end(input)
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

export type Tap = Pick<typeof t, 'equal' | 'match' | 'ok' | 'notOk' | 'same' | 'not'>

/** Success: exit 0, nothing on stderr. */
export function ok(t: Tap, r: Run, what: string) {
  t.equal(r.code, 0, `${what}: exit 0 (stderr: ${r.stderr.trim()})`)
  t.equal(r.stderr, '', `${what}: nothing on stderr`)
}

/** Failure: the given non-zero exit, nothing on stdout, exactly one line on stderr. */
export function fails(t: Tap, r: Run, code: number, line: RegExp | string, what: string) {
  t.equal(r.code, code, `${what}: exit ${code}`)
  t.equal(r.stdout, '', `${what}: nothing on stdout`)
  t.match(r.stderr, /^tessera: [^\n]+\n$/, `${what}: exactly one line on stderr`)
  if (typeof line === 'string') t.equal(r.stderr, `tessera: ${line}\n`, what)
  else t.match(r.stderr, line, what)
}

export const json = <T>(r: Run): T => JSON.parse(r.stdout) as T

export function scratch(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}
