// What runs on Tessera's core: Tessera itself (dist/server.js) and the baseline processes (bench/baselines.ts), each tracked.
import type { ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { join } from 'node:path'
import type { Target } from './checks.js'
import { ROOT, SERVER_CORE } from './context.js'
import { freePort, spawnPinned, waitForHttp } from './proc.js'
import { track } from './tracked.js'

export interface Server {
  child: ChildProcess
  base: string
  target: Target
}

/**
 * Node flags for a process that perf samples: perf names JIT-compiled JavaScript from
 * /tmp/perf-<pid>.map, which --perf-basic-prof writes. The flag also starts V8's log, which would
 * otherwise land as isolate-*.log in the working directory (the repository): it goes to `dir`.
 */
export const perfMapFlags = (dir: string): string[] => ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${join(dir, 'v8.log')}`]

/** Tessera on its own free port, with only PATH and HOME from the caller's environment; resolves once /readyz answers. */
export async function startTessera(
  run: { dbUrl: string; kek: string; logFile: string; logLevel: string },
  opts: { profileDir?: string; perfDir?: string; env?: Record<string, string> } = {},
): Promise<Server> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER: base,
    DATABASE_URL: run.dbUrl,
    KEY_ENCRYPTION_KEY: run.kek,
    LOG_LEVEL: run.logLevel,
    // One load generator is one client address: the per-address limits would refuse it within
    // the first second. They are off here; the limiter step measures what they cost.
    RATE_LIMIT_TOKEN: '0',
    RATE_LIMIT_SIGNUP: '0',
    RATE_LIMIT_PASSWORD: '0',
    RATE_LIMIT_SIGNIN: '0',
    ...opts.env,
  }
  const nodeArgs = [
    ...(opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : []),
    ...(opts.perfDir ? perfMapFlags(opts.perfDir) : []),
    join(ROOT, 'dist', 'server.js'),
  ]
  const out = openSync(run.logFile, 'a')
  const child = track(spawnPinned(SERVER_CORE, nodeArgs, { cwd: ROOT, env, stdio: ['ignore', out, out] }))
  child.once('exit', () => closeSync(out))
  await waitForHttp(`${base}/readyz`, child)
  return { child, base, target: { base, issuer: base, audience: 'api' } }
}

/** `bench/baselines.ts <args>` on Tessera's core; its stdout piped (for its JSON) or ignored. */
export function startBaseline(args: string[], opts: { stdout: 'pipe' | 'ignore'; nodeFlags?: string[] }): ChildProcess {
  return track(
    spawnPinned(SERVER_CORE, [...(opts.nodeFlags ?? []), '--import', 'tsx', join(ROOT, 'bench', 'baselines.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', opts.stdout, 'inherit'],
    }),
  )
}
