// A real redis-server for the tests that share counters through Redis: on 127.0.0.1 and a free
// port, nothing saved, in a scratch directory, stopped by PID at teardown. A machine without
// Redis gets Debian's package installed once (as root, with apt); otherwise the test stops with
// the one command that installs it.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmdirSync } from 'node:fs'
import { userInfo } from 'node:os'
import { type Child, freePort, scratch, spawnProgram } from './process.js'
import { until } from './wait.js'

const INSTALL = 'apt-get update && apt-get install -y redis-server'

function findRedis(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/bin', '/usr/sbin', '/usr/local/bin')) {
    if (dir && existsSync(`${dir}/redis-server`)) return `${dir}/redis-server`
  }
  return undefined
}

/** redis-server's path, installing Debian's package first where this process may (root, apt). */
async function redisServer(): Promise<string> {
  const found = findRedis()
  if (found) return found
  if (userInfo().uid !== 0 || !existsSync('/usr/bin/apt-get')) throw new Error(`redis-server is not installed; install it with: ${INSTALL}`)
  // One installer at a time, across test files running in parallel.
  const lock = '/tmp/tessera-apt-redis.lock'
  await until('no other test is installing redis-server', 300_000, () => {
    try {
      mkdirSync(lock)
      return true
    } catch {
      return findRedis() !== undefined
    }
  })
  try {
    if (!findRedis()) {
      const run = spawnSync('sh', ['-c', `DEBIAN_FRONTEND=noninteractive ${INSTALL}`], { encoding: 'utf8', timeout: 300_000 })
      if (run.status !== 0) throw new Error(`installing redis-server failed (${INSTALL}): ${run.stderr.slice(-500)}`)
    }
  } finally {
    rmdirSync(lock)
  }
  const installed = findRedis()
  if (!installed) throw new Error(`redis-server is still not installed; install it with: ${INSTALL}`)
  return installed
}

export interface TestRedis {
  url: string
  port: number
  child: Child
  /** Stops it (as an outage would); `start()` brings it back on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
}

export async function startRedis(t: { teardown(fn: () => unknown): void }): Promise<TestRedis> {
  const bin = await redisServer()
  const port = await freePort()
  const dir = scratch(t, 'tessera-redis-')
  let child: Child
  const start = async () => {
    child = spawnProgram(t, bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      name: 'redis-server',
      cwd: dir,
    })
    await child.line('redis-server ready', /Ready to accept connections/, 30_000)
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get child() {
      return child
    },
    async stop() {
      await child.stop()
    },
    start,
  }
}
