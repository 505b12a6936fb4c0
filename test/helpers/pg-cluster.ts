// A PostgreSQL cluster of a test's own, for tests that take the database away and bring it back
// (an outage, a restart): initdb in a scratch directory, its settings written into the cluster's
// own postgresql.conf, so that every `start()` after a `stop()` comes back on the same port with
// the same data directory, as a restarted database server does. As root the server runs as the
// `postgres` OS user (Postgres refuses root), as scripts/postgres.mjs does. Stopped
// (immediate) and removed at teardown. pg_ctl runs asynchronously: the test's event loop, and the
// requests it has in flight, keep going while Postgres stops or starts.
import { execFile, execFileSync } from 'node:child_process'
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { freePort } from './process.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

export type StopMode = 'smart' | 'fast' | 'immediate'

export interface Cluster {
  /** The admin URL (database `postgres`). */
  url: string
  port: number
  dir: string
  /** `pg_ctl stop -m <mode>`, waiting until it has stopped. */
  stop(mode?: StopMode): Promise<void>
  /** `pg_ctl start` on the same data directory and port, waiting until it accepts connections. */
  start(): Promise<void>
  running(): boolean
  /** The server's own log (for a failure message). */
  log(): string
}

function binDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : []
  versions.sort((a, b) => Number(b) - Number(a))
  if (!versions[0]) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql), or set PG_BIN')
  return join(root, versions[0], 'bin')
}

export async function startCluster(t: Teardown, settings: Record<string, string | number> = {}): Promise<Cluster> {
  const bin = binDir()
  const asRoot = userInfo().uid === 0
  const dir = mkdtempSync(join(tmpdir(), 'tessera-pg-own-'))
  const data = join(dir, 'data')
  const logFile = join(dir, 'postgres.log')
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim())
    chownSync(dir, id('-u'), id('-g'))
  }
  const run = (cmd: string, args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args]
      execFile(file, argv, { encoding: 'utf8', timeout: 90_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || stdout || err.message}`)) : resolve(),
      )
    })
  let running = false
  // Registered first, so it runs last: after the servers using the cluster have been killed.
  t.teardown(async () => {
    try {
      if (running) await run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  await run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C'])
  const port = await freePort()
  const options: Record<string, string | number> = {
    listen_addresses: "'127.0.0.1'",
    port,
    unix_socket_directories: `'${dir}'`,
    max_connections: 200,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...settings,
  }
  // In the cluster's own configuration, not on pg_ctl's command line: a later start finds them.
  appendFileSync(
    join(data, 'postgresql.conf'),
    `\n${Object.entries(options)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  )
  const start = async () => {
    await run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', 'start'])
    running = true
  }
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async stop(mode = 'fast') {
      await run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop'])
      running = false
    },
    start,
    running: () => running,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
  }
}
