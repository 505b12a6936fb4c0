// Runs `tessera` for the CLI tests. Almost always in this process, through src/cli/run.ts's
// run(argv, io) with this run's own environment, working directory and standard input, its
// output collected: the binary (src/cli/index.ts) is only that call on process.argv, process.env
// and the process's streams. What only a real process shows (its exit status, a real stdin pipe,
// a reader that goes away, the embedded database's one-process lock) spawns the binary.
import type t from 'tap'
import { run } from '../../src/cli/run.js'
import { type Child, type SpawnOptions, scratch as scratchDir, spawnNode, tsx } from './process.js'

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

export interface Where {
  cwd: string
  env: Record<string, string>
}

/** `tessera ...args` in this process, with nothing on standard input. */
export function tessera(where: Where, ...args: string[]): Promise<Run> {
  return inProcess(where, '', args)
}

/** As `tessera`, with `input` on standard input (then its end). */
export function tesseraWithInput(where: Where, input: string, ...args: string[]): Promise<Run> {
  return inProcess(where, input, args)
}

async function inProcess(where: Where, input: string, args: string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await run(args, {
    // Only what the test gives: the CLI reads its configuration from io.env and io.cwd alone.
    env: { ...where.env },
    cwd: where.cwd,
    stdin: async () => input,
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
  })
  return { code, stdout, stderr }
}

/** The real binary, `node --import tsx src/cli/index.ts ...args`, as a child process in `where`. */
export function spawnTessera(t: { teardown(fn: () => unknown): void }, where: Where, args: string[], opts: Pick<SpawnOptions, 'stdin' | 'stdout'> = {}): Child {
  return spawnNode(t, [...tsx('src/cli/index.ts'), ...args], { name: `tessera ${args.join(' ')}`, cwd: where.cwd, env: where.env, ...opts })
}

/** The real binary run to its end (bounded): its exit code and output. */
export async function tesseraBinary(t: { teardown(fn: () => unknown): void }, where: Where, ...args: string[]): Promise<Run> {
  const child = spawnTessera(t, where, args)
  const { code } = await child.exit(120_000)
  return { code, stdout: child.stdout(), stderr: child.stderr() }
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

/** A scratch working directory for the CLI (its ./data, ./keys), removed at teardown. */
export const scratch = (t: { teardown(fn: () => unknown): void }): string => scratchDir(t, 'tessera-cli-')
