// Real child processes, for what only a real process shows (exit status, signals, pipes, the
// embedded database's one-process lock, several servers on one database). One way to do it:
// a `node` child with the environment a user's shell would give, its output collected, every
// wait bounded, stopped by PID (SIGTERM, then SIGKILL) and killed at teardown if still running.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { EnvSchema } from '../../src/config/index.js'
import { until, within } from './wait.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

interface Teardown {
  teardown(fn: () => unknown): void
}

/** The environment a user's shell would give: none of Tessera's variables, none of tap's. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of [...Object.keys(EnvSchema.properties), 'NODE_OPTIONS', 'TESSERA_TEST_PG_URL']) delete env[name]
  for (const name of Object.keys(env)) if (/^_?TAP/.test(name)) delete env[name]
  return env
}

/** A scratch directory (a child's working directory, its data), removed at teardown. */
export function scratch(t: Teardown, prefix = 'tessera-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A port free on 127.0.0.1 right now (the OS picks it; it is released for the caller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** Node's arguments to run a TypeScript file of this repository through tsx (paths absolute: any cwd works). */
export const tsx = (file: string): string[] => ['--import', import.meta.resolve('tsx'), join(ROOT, file)]

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface Child {
  name: string
  pid: number
  /** Its standard input when spawned with `stdin: 'pipe'`, else null. */
  stdin: Writable | null
  stdout(): string
  stderr(): string
  running(): boolean
  /** Resolves once the process has exited and its output is fully read. */
  closed: Promise<Exit>
  /** The exit, within `ms`; throws (with its stderr) if it is still running then. */
  exit(ms: number): Promise<Exit>
  /** The first line of stdout or stderr that `match` accepts, within `ms`; throws if it exits first. */
  line(what: string, match: RegExp | ((line: string) => boolean), ms: number): Promise<string>
  /** SIGTERM by PID, then the exit within `ms`; SIGKILL if it does not come. */
  stop(ms?: number): Promise<Exit>
  /** Sends `sig` by PID and returns at once (a process already gone is no error). */
  signal(sig: NodeJS.Signals): void
}

export interface SpawnOptions {
  /** For messages: which child this is. */
  name?: string
  cwd: string
  /** Added to the clean environment. */
  env?: Record<string, string | undefined>
  /** 'pipe': standard input stays open for the test to write (`child.stdin`). Default: /dev/null. */
  stdin?: 'pipe'
  /** Written to standard input, which is then closed. */
  input?: string
  /** 'gone': the reading end of its stdout pipe is closed at once, as by a reader that stopped early (`| head -1`). */
  stdout?: 'collect' | 'gone'
}

/** Starts `node ...args`; killed by PID at teardown if it is still running then. */
export function spawnNode(t: Teardown, args: string[], opts: SpawnOptions): Child {
  return spawnProgram(t, process.execPath, args, { name: args.at(-1) ?? 'node', ...opts })
}

/** Starts any program (a redis-server, say) the same way. */
export function spawnProgram(t: Teardown, file: string, args: string[], opts: SpawnOptions): Child {
  const name = opts.name ?? file
  const child = spawn(file, args, {
    cwd: opts.cwd,
    env: { ...cleanEnv(), TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), ...opts.env },
    stdio: [opts.stdin === 'pipe' || opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
  // A child that exits before reading its input is the test's to report, not a crash of tap's.
  child.stdin?.on('error', () => {})
  if (opts.input !== undefined) child.stdin!.end(opts.input)
  if (opts.stdout === 'gone') child.stdout!.destroy()
  let stdout = ''
  let stderr = ''
  const watchers = new Set<() => void>()
  const changed = () => {
    for (const w of watchers) w()
  }
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    changed()
  })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    changed()
  })
  const closed = new Promise<Exit>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }))
    // A failed spawn has no pid and no exit: report it as an exit that is not 0.
    child.on('error', (err) => {
      stderr += `spawn failed: ${err.message}\n`
      resolve({ code: null, signal: null })
    })
  })
  let ended = false
  closed.then(() => {
    ended = true
    changed()
  })
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined
  /** By PID; a process that has just gone is no error. */
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(child.pid!, sig)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
    }
  }
  const tail = () => (stderr || stdout).slice(-2000)

  const self: Child = {
    name,
    pid: child.pid ?? -1,
    stdin: child.stdin,
    stdout: () => stdout,
    stderr: () => stderr,
    running,
    closed,
    signal,
    async exit(ms) {
      const exit = await within(closed, ms)
      if (!exit) throw new Error(`${name} did not exit within ${ms} ms; output: ${tail()}`)
      return exit
    },
    line(what, match, ms) {
      const test = typeof match === 'function' ? match : (l: string) => match.test(l)
      const find = () => `${stdout}\n${stderr}`.split('\n').find(test)
      return new Promise<string>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined
        const done = (fn: () => void) => {
          clearTimeout(timer)
          watchers.delete(check)
          fn()
        }
        const check = () => {
          const found = find()
          if (found !== undefined) done(() => resolve(found))
          // Only once its output is fully read: the line may be in the last of it.
          else if (ended) done(() => reject(new Error(`${name} exited before ${what}; output: ${tail()}`)))
        }
        timer = setTimeout(() => done(() => reject(new Error(`timed out after ${ms} ms waiting until ${what}; output: ${tail()}`))), ms)
        watchers.add(check)
        check()
      })
    },
    async stop(ms = 15_000) {
      if (!running()) return closed
      signal('SIGTERM')
      const exit = await within(closed, ms)
      if (exit) return exit
      signal('SIGKILL')
      return closed
    },
  }
  t.teardown(async () => {
    if (!running()) return
    signal('SIGKILL')
    await within(closed, 5000)
  })
  return self
}

/**
 * What runs a server: dist/server.js, the very file `npm start` runs, when the build is newer
 * than every source file (as after `npm ci`, which builds); otherwise src/server.ts through tsx.
 * A build older than src/ is never used: it would test yesterday's code and pass for the wrong
 * reason. Paths are absolute so that the server's working directory can be a temp one.
 */
export function serverCommand(): { args: string[]; what: string } {
  const built = join(ROOT, 'dist', 'server.js')
  const src = join(ROOT, 'src')
  const newestSource = Math.max(
    ...readdirSync(src, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => statSync(join(e.parentPath, e.name)).mtimeMs),
  )
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource) return { args: [built], what: 'dist/server.js (an up-to-date build)' }
  return { args: tsx('src/server.ts'), what: 'src/server.ts through tsx (dist/ is missing or older than src/)' }
}

export interface Server extends Child {
  url: string
  /** The JSON log lines written so far. */
  logs(): { msg?: string; level?: number; [k: string]: unknown }[]
}

export interface Jwks {
  keys: { kty: string; kid: string; alg: string; use: string }[]
}

/**
 * A Tessera server process on 127.0.0.1 and a free port (or env.PORT), working in `cwd` so that
 * nothing lands in the repository; killed by PID at teardown if still running.
 */
export async function startServer(t: Teardown, cwd: string, env: Record<string, string>, name = 'server'): Promise<Server> {
  const port = env.PORT ?? String(await freePort())
  const child = spawnNode(t, serverCommand().args, { name, cwd, env: { HOST: '127.0.0.1', ...env, PORT: port } })
  return {
    ...child,
    url: `http://127.0.0.1:${port}`,
    logs: () =>
      child
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => {
          try {
            return [JSON.parse(l)]
          } catch {
            return []
          }
        }),
  }
}

/** The server's JWKS once it answers 200, within `ms`; throws with its output if it exits first. */
export async function readyJwks(server: Server, ms = 60_000): Promise<Jwks> {
  return until(
    `${server.name} serves its JWKS`,
    ms,
    async () => {
      if (!server.running()) throw new Error(`${server.name} exited before serving the JWKS: ${server.stderr() || server.stdout()}`)
      const res = await fetch(`${server.url}/.well-known/jwks.json`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
      return res?.status === 200 ? ((await res.json()) as Jwks) : undefined
    },
    100,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; stderr: ${server.stderr().slice(0, 2000)}`)
  })
}
