// Child processes pinned to one core, stopped by their own pid only.
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** `taskset -c <core> node <args>`: taskset execs node, so the child's pid is node's own. */
export function spawnPinned(core: number, nodeArgs: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('taskset', ['-c', String(core), process.execPath, ...nodeArgs], opts)
}

/** The CPU list a process may run on, as `taskset -cp` reports it (e.g. "0"). */
export function affinity(pid: number): string {
  const out = execFileSync('taskset', ['-cp', String(pid)], { encoding: 'utf8' })
  return out.trim().split(': ').at(-1) ?? out.trim()
}

/** Pins a process, all its threads and its existing children to `core`; later forks inherit it. */
export function pinTree(pid: number, core: number): number[] {
  const pids = [pid, ...childrenOf(pid)]
  for (const p of pids) {
    try {
      execFileSync('taskset', ['-a', '-cp', String(core), String(p)], { stdio: 'ignore' })
    } catch {
      // a child that exited meanwhile
    }
  }
  return pids
}

function childrenOf(pid: number): number[] {
  const out: number[] = []
  let tasks: string[] = []
  try {
    tasks = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tasks) {
    try {
      const children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim()
      for (const c of children.split(/\s+/).filter(Boolean)) out.push(Number(c), ...childrenOf(Number(c)))
    } catch {
      // gone
    }
  }
  return out
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Sends `signal` to the child's pid; SIGKILL to the same pid if it has not exited after `graceMs`. */
export async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const gone = exited(child)
  child.kill(signal)
  const timer = sleep(graceMs).then(() => 'timeout' as const)
  if ((await Promise.race([gone.then(() => 'exited' as const), timer])) === 'timeout') {
    child.kill('SIGKILL')
    await gone
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const address = s.address()
      const port = typeof address === 'object' && address ? address.port : 0
      s.close(() => resolve(port))
    })
  })
}

/** Polls `url` until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${url} answered`)
    try {
      const res = await fetch(url)
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    await sleep(100)
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`)
}

/** CPU time (user + system, all threads) a process has used, in clock ticks (/proc/<pid>/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after "(comm)": state is field 3, utime 14 and stime 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/**
 * Waits until the process uses less than `below` of a core over `windowMs`, or `timeoutMs`
 * passes. A stopped load leaves requests in flight (argon2 work cannot be called back); the next
 * run must not inherit them. Returns how long it waited, in ms.
 */
export async function waitIdle(pid: number, { below = 0.1, windowMs = 300, timeoutMs = 60_000 } = {}): Promise<number> {
  const hz = 100 // USER_HZ, 100 on Linux
  const start = Date.now()
  let before = cpuTicks(pid)
  while (Date.now() - start < timeoutMs) {
    await sleep(windowMs)
    const now = cpuTicks(pid)
    if ((now - before) / hz / (windowMs / 1000) < below) return Date.now() - start
    before = now
  }
  return Date.now() - start
}
