// Tessera server processes for the key tests: each a real `node` child with its own port,
// started the way test/server.test.ts starts them (the up-to-date build, else src/ through
// tsx), killed by PID at teardown if it is still running.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { cleanEnv, freePort, ROOT, serverCommand } from '../helpers/process.js'

export { freePort, serverCommand }

export interface ServerProcess {
  name: string
  pid: number
  url: string
  stdout(): string
  stderr(): string
  running(): boolean
  /** Resolves once the process has exited. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** The JSON log lines written so far. */
  logs(): { msg?: string; level?: number; [k: string]: unknown }[]
}

/** A scratch working directory and the processes started in it; all killed by PID at teardown. */
export function processes(t: { teardown(fn: () => unknown): void }) {
  const command = serverCommand()
  const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'))
  const started: ServerProcess[] = []
  t.teardown(async () => {
    for (const s of started) {
      if (!s.running()) continue
      process.kill(s.pid, 'SIGKILL')
      await Promise.race([s.closed, sleep(5000)])
    }
    rmSync(dir, { recursive: true, force: true })
  })

  async function start(name: string, env: Record<string, string>): Promise<ServerProcess> {
    const port = String(await freePort())
    const child: ChildProcess = spawn(process.execPath, command.args, {
      cwd: dir,
      env: { ...cleanEnv(), TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'), KEY_FILE: join(dir, `${name}.kek`), ...env, HOST: '127.0.0.1', PORT: port },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    )
    const server: ServerProcess = {
      name,
      pid: child.pid!,
      url: `http://127.0.0.1:${port}`,
      stdout: () => stdout,
      stderr: () => stderr,
      running: () => child.exitCode === null && child.signalCode === null,
      closed,
      logs: () =>
        stdout
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
    started.push(server)
    return server
  }

  /** SIGTERM by PID, then the exit (bounded); SIGKILL if it does not come. */
  async function stop(server: ServerProcess, ms = 15_000) {
    if (!server.running()) return server.closed
    process.kill(server.pid, 'SIGTERM')
    const exit = await Promise.race([server.closed, sleep(ms).then(() => undefined)])
    if (exit) return exit
    process.kill(server.pid, 'SIGKILL')
    return server.closed
  }

  return { dir, command, start, stop }
}

/** Polls until `fn` returns a value other than undefined; throws after `ms` (or what `fn` throws). */
export async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>, every = 100): Promise<T> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = await fn()
    if (v !== undefined) return v
    await sleep(every)
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

/** The server's JWKS once it answers 200 (bounded); throws with its stderr if it exits first. */
export async function readyJwks(server: ServerProcess, ms = 45_000): Promise<{ keys: { kid: string }[] }> {
  return until(`${server.name} to serve its JWKS`, ms, async () => {
    if (!server.running()) throw new Error(`${server.name} exited: ${server.stderr() || server.stdout()}`)
    const res = await fetch(`${server.url}/.well-known/jwks.json`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined)
    return res?.status === 200 ? ((await res.json()) as { keys: { kid: string }[] }) : undefined
  }).catch((err: Error) => {
    throw new Error(`${err.message}; stderr: ${server.stderr().slice(0, 2000)}`)
  })
}
