// The database connection: real Postgres through @prisma/adapter-pg, or embedded PGlite.
// Everything above this file sees the same Database and never knows which one it got.
import { createHash, randomBytes } from 'node:crypto'
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import { PrismaClient } from '../generated/prisma/client.js'
import { OperatorError } from '../lib/errors.js'
import { ensurePrivateDirectory, tightenTree } from '../lib/private-dir.js'

export type { PrismaClient }

/** Raw SQL on one connection or on the pool. Only src/stores/ writes SQL. */
export interface Session {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  /**
   * The same, as a named prepared statement where the driver has them (pg: parsed and planned
   * once per connection, then only bound and executed). For hot, fixed statements.
   */
  prepared<T = Record<string, unknown>>(name: string, sql: string, params: unknown[]): Promise<T[]>
  /** Runs a script of several statements (a migration file). */
  exec(sql: string): Promise<void>
}

/** The database as the rest of Tessera sees it: which kind, is it there, a lock, and close. */
export interface Database {
  readonly kind: 'postgres' | 'pglite'
  /** Resolves when the database answers within `timeoutMs`; throws otherwise (readiness). */
  ping(timeoutMs: number): Promise<void>
  /**
   * Runs `fn` holding a lock that every Tessera process on this database respects
   * (a Postgres advisory lock; PGlite admits one process, so a promise chain suffices).
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>
  /** Postgres only: the connection pool's use right now (metrics read it on scrape); PGlite has no pool. */
  poolUse?(): PoolUse
  close(): Promise<void>
}

/** pg.Pool's counts: connections open, of them idle, and queries waiting for one; and its size. */
export interface PoolUse {
  total: number
  idle: number
  waiting: number
  max: number
}

/**
 * What src/stores/ (and tests) use on top: the Prisma client, raw SQL, and raw SQL on the
 * lock's own connection (migrations). openDatabase returns it; everything else is handed the
 * narrower Database.
 */
export interface Connection extends Database, Session {
  readonly prisma: PrismaClient
  withLockedSession<T>(name: string, fn: (session: Session) => Promise<T>): Promise<T>
  /** PGlite only: the whole database as a tar (a template for openDatabase's pgliteTemplate). */
  dump?(): Promise<Blob>
}

export class DatabaseUnavailable extends OperatorError {
  override name = 'DatabaseUnavailable'
}

/** The embedded database is held by another live process (`pid`): the CLI then asks that server (src/cli/channel.ts). */
export class DatabaseInUse extends DatabaseUnavailable {
  constructor(
    message: string,
    readonly pid: number,
  ) {
    super(message)
  }
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined
  /** PGlite data directory, or `memory://` for a throwaway in-memory database. */
  pgliteDir: string
  poolSize?: number
  /** Postgres: how long to wait for a connection (then the query fails, and the request is a 503). */
  connectTimeoutMs?: number
  /** Postgres: the longest a statement may run. */
  statementTimeoutMs?: number
  /** An in-memory PGlite starts as a copy of this dump (tests: a migrated template, instead of initdb each time). */
  pgliteTemplate?: Blob | undefined
}

export async function openDatabase(options: DatabaseOptions): Promise<Connection> {
  if (!options.databaseUrl) return openPglite(options.pgliteDir, options.pgliteTemplate)
  return openPostgres(options.databaseUrl, {
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 1500,
    // statement_timeout bounds the server's work; query_timeout, a server that stopped answering.
    statement_timeout: options.statementTimeoutMs ?? 5000,
    query_timeout: (options.statementTimeoutMs ?? 5000) + 1000,
  })
}

/** Stable 63-bit key for pg_advisory_lock from a name. */
function lockKey(name: string): bigint {
  let h = 0xcbf29ce484222325n
  for (const c of Buffer.from(`tessera:${name}`)) h = ((h ^ BigInt(c)) * 0x100000001b3n) & 0x7fffffffffffffffn
  return h
}

async function openPostgres(connectionString: string, limits: Omit<pg.PoolConfig, 'connectionString'>): Promise<Connection> {
  const pool = new pg.Pool({ connectionString, ...limits })
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on('error', () => {})
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    await pool.end().catch(() => {})
    throw new DatabaseUnavailable(`cannot reach Postgres at ${redactUrl(connectionString)}: ${(err as Error).message}`)
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) })
  const sessionOf = (c: pg.Pool | pg.PoolClient): Session => ({
    query: async (sql, params) => (await c.query(sql, params as unknown[])).rows,
    prepared: async (name, text, values) => (await c.query({ name, text, values })).rows,
    exec: async (sql) => {
      await c.query(sql)
    },
  })
  const withLockedSession = async <T>(name: string, fn: (session: Session) => Promise<T>): Promise<T> => {
    const client = await pool.connect()
    const key = lockKey(name).toString()
    try {
      await client.query('SELECT pg_advisory_lock($1)', [key])
      try {
        return await fn(sessionOf(client))
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [key])
      }
    } finally {
      client.release()
    }
  }
  const conn = connection('postgres', prisma, sessionOf(pool), withLockedSession, () => pool.end())
  const max = limits.max ?? 10
  return { ...conn, poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max }) }
}

/** The Connection over a driver's session and lock; `closeDriver` runs after Prisma disconnects. */
function connection(
  kind: Connection['kind'],
  prisma: PrismaClient,
  session: Session,
  withLockedSession: Connection['withLockedSession'],
  closeDriver: () => Promise<void>,
): Connection {
  let closed: Promise<void> | undefined
  return {
    kind,
    prisma,
    ...session,
    ping: (ms) => withTimeout(session.query('SELECT 1'), ms).then(() => {}),
    withLockedSession,
    withLock: (name, fn) => withLockedSession(name, () => fn()),
    // Closing twice (a test, then its teardown; a signal during shutdown) is harmless.
    close: () =>
      (closed ??= (async () => {
        await prisma.$disconnect()
        await closeDriver()
      })()),
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseUnavailable(`the database did not answer within ${ms} ms`)), ms)
    }),
  ])
}

/** Hides the password of a postgres:// URL. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return 'postgres://…'
  }
}

async function openPglite(dir: string, template?: Blob): Promise<Connection> {
  const inMemory = dir.startsWith('memory://')
  const release = inMemory ? () => {} : lockDirectory(dir)
  let db: PGlite
  try {
    db = await PGlite.create(inMemory ? 'memory://' : dir, inMemory && template ? { loadDataDir: template } : {})
  } catch (err) {
    release()
    throw new DatabaseUnavailable(`cannot open the embedded database in ${dir}: ${(err as Error).message}`)
  }
  // PGlite unpacks its files 0666 whatever the umask; the directory's 0700 already keeps others
  // out, and this keeps a copy of it (cp -r, a backup) from carrying those modes along.
  if (!inMemory) tightenTree(dir)
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) })
  const session: Session = {
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    prepared: async <T>(_name: string, sql: string, params: unknown[]) => (await db.query<T>(sql, params)).rows,
    exec: async (sql) => {
      await db.exec(sql)
    },
  }
  let chain: Promise<unknown> = Promise.resolve()
  const withLockedSession = <T>(_name: string, fn: (session: Session) => Promise<T>): Promise<T> => {
    const run = chain.then(() => fn(session))
    chain = run.catch(() => {})
    return run
  }
  const conn = connection('pglite', prisma, session, withLockedSession, async () => {
    await db.close()
    if (!inMemory) tightenTree(dir)
    release()
  })
  return { ...conn, dump: () => db.dumpDataDir('none') }
}

/** Lock files this process holds, by path: a second open of the same directory in-process is refused too. */
const held = new Set<string>()

/** The pid and start time a lock file names, or undefined when it is empty or cut short (held: see lockDirectory). */
function parseLock(text: string): { pid: number; started: number | undefined } | undefined {
  const m = /^(\d+)(?: (\d+))?$/.exec(text.trim())
  if (!m || Number(m[1]) <= 0) return undefined
  return { pid: Number(m[1]), started: m[2] === undefined ? undefined : Number(m[2]) }
}

/** Reads a file; undefined when it is not there. */
function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

function unlinkIfThere(file: string): void {
  try {
    unlinkSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

/**
 * PGlite is one process's database: a second process opening the same directory would
 * corrupt it. A pid file refuses that with a clear message instead. It names the process by
 * its pid and, on Linux, its start time, so that after a crash or a reboot a pid that now
 * belongs to another program is not taken for the holder.
 *
 * The directory is made (or checked to be) its owner's only first (lib/private-dir.ts).
 * Taking the lock is atomic however many processes try at once: the pid file is written in
 * full under a temporary name, then hard-linked into place, which fails if the lock exists
 * (so no one ever reads a half-written lock of ours). A lock whose holder has died is taken
 * over by one process only: the first to create the takeover file named after that dead lock's
 * contents, which then checks that the lock is still the dead one before replacing it. An
 * empty or unreadable lock file is held, not free (a writer we cannot see may be under way).
 * Release removes the lock only while it still names this process.
 */
export function lockDirectory(dir: string): () => void {
  ensurePrivateDirectory(dir, "the embedded database's directory", (message) => new DatabaseUnavailable(message))
  const file = join(dir, 'tessera.pid')
  const self = [process.pid, startTime(process.pid)].filter((v) => v !== undefined).join(' ')
  const inUse = (pid: number) =>
    new DatabaseInUse(
      `the embedded database in ${dir} is in use by process ${pid} (a running Tessera server?); stop it, or set DATABASE_URL to use Postgres`,
      pid,
    )
  const release = () => {
    held.delete(file)
    // Only a lock that is still ours: one replaced since (removed by hand, taken over) is another's.
    if (readIfThere(file) === self) unlinkIfThere(file)
  }
  if (held.has(file)) throw inUse(process.pid)

  const mine = join(dir, `.tessera.pid.${process.pid}.${randomBytes(6).toString('hex')}`)
  writeFileSync(mine, self, { flag: 'wx', mode: 0o600 })
  try {
    // A few rounds: each one that does not decide means the lock changed hands meanwhile.
    /** Links our pid file into place: true when that took the lock, false when one exists. */
    const take = (): boolean => {
      try {
        linkSync(mine, file)
        held.add(file)
        return true
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        return false
      }
    }
    for (let round = 0; round < 10; round++) {
      if (take()) return release
      const text = readIfThere(file)
      if (text === undefined) continue // released meanwhile: try again
      const holder = parseLock(text)
      if (!holder) {
        throw new DatabaseUnavailable(
          `the embedded database in ${dir} is locked by ${file}, which is empty or cut short (a Tessera starting right now?); if no Tessera is running, remove that file`,
        )
      }
      // A lock naming this pid that this process does not hold: a previous process with the
      // same pid (a container's pid 1 after a restart) that is gone.
      const previousSelf = holder.pid === process.pid
      if (!previousSelf && holds(holder.pid, holder.started)) throw inUse(holder.pid)
      // The holder is dead. One process replaces its lock: whoever creates this file first.
      const takeover = `${file}.takeover-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`
      try {
        linkSync(mine, takeover)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        const takerText = readIfThere(takeover)
        if (takerText === undefined) continue // that takeover has just finished: look again
        // Another process is replacing the dead lock right now: it will hold the directory.
        // (A takeover file of this pid is a previous process's: this one holds none now.)
        const taker = parseLock(takerText)
        if (taker && taker.pid !== process.pid && holds(taker.pid, taker.started)) throw inUse(taker.pid)
        // Its taker died half-way, and only a person can tell that no one else is about to
        // finish it: removing it here could let two processes replace the lock at once.
        throw new DatabaseUnavailable(
          `the embedded database in ${dir} is locked by ${file}, whose takeover by a process that is gone was interrupted; if no Tessera is running, remove ${file} and ${takeover}`,
        )
      }
      try {
        // Still the dead holder's lock (not replaced between our read and our takeover)?
        if (readIfThere(file) !== text) continue
        unlinkIfThere(file)
        // Taken: ours. Not: someone took the free directory in between, and the next round reads their lock.
        if (take()) return release
      } finally {
        unlinkIfThere(takeover)
      }
    }
    throw new DatabaseUnavailable(`the embedded database in ${dir}: its lock ${file} keeps changing hands; try again`)
  } finally {
    unlinkIfThere(mine)
  }
}

/** Whether the process that wrote the lock is still running. In doubt: yes. */
function holds(pid: number, started: number | undefined): boolean {
  if (!isAlive(pid)) return false
  const now = startTime(pid)
  // Another process with the same pid started since: the writer is gone.
  return started === undefined || Number.isNaN(started) || now === undefined || now === started
}

/** When `pid` started, in clock ticks since boot (Linux `/proc/<pid>/stat`, field 22); elsewhere undefined. */
export function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19])
    return Number.isInteger(ticks) ? ticks : undefined
  } catch {
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
