// The embedded database admits one process: `tessera.pid` names the holder by pid and start
// time, so a live holder is refused and a pid reused by another process is not.
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { DatabaseUnavailable, openDatabase, startTime } from '../../src/stores/database.js'
import { type Child, scratch, spawnNode } from '../helpers/process.js'

/** A process that does nothing for a while: a stand-in for another program. Killed by PID at teardown. */
function bystander(t: { teardown(fn: () => unknown): void }): Child {
  return spawnNode(t, ['-e', 'setTimeout(() => {}, 120_000)'], { name: 'bystander', cwd: scratch(t) })
}

function scratchDir(t: { teardown(fn: () => unknown): void }): { dir: string; lock: string } {
  const dir = scratch(t, 'tessera-lock-')
  return { dir, lock: join(dir, 'tessera.pid') }
}

// PGlite's first open of a directory runs initdb (seconds of WASM); later opens take a fraction
// of that. The tests that do open one start from a copy of a directory initialised once.
const template = scratch(t, 'tessera-lock-template-')
let initialised: Promise<void> | undefined
async function initialisedDir(t: { teardown(fn: () => unknown): void }): Promise<{ dir: string; lock: string }> {
  initialised ??= openDatabase({ pgliteDir: template }).then((db) => db.close())
  await initialised
  const where = scratchDir(t)
  cpSync(template, where.dir, { recursive: true })
  return where
}

t.test('a running holder is refused, by pid', async (t) => {
  const { dir, lock } = scratchDir(t)
  const holder = bystander(t)
  writeFileSync(lock, `${holder.pid} ${startTime(holder.pid) ?? ''}`.trim())
  await t.rejects(
    openDatabase({ pgliteDir: dir }),
    new DatabaseUnavailable(
      `the embedded database in ${dir} is in use by process ${holder.pid} (a running Tessera server?); stop it, or set DATABASE_URL to use Postgres`,
    ),
  )
  t.equal(readFileSync(lock, 'utf8').split(' ')[0], String(holder.pid), 'the lock still names the holder')
})

t.test('a lock naming only a live pid (an older Tessera wrote it) is respected', async (t) => {
  const { dir, lock } = scratchDir(t)
  const holder = bystander(t)
  writeFileSync(lock, String(holder.pid))
  await t.rejects(openDatabase({ pgliteDir: dir }), { name: 'DatabaseUnavailable', message: new RegExp(`in use by process ${holder.pid} `) })
})

t.test('a pid reused by another process since the lock was written does not hold it', async (t) => {
  const { dir, lock } = await initialisedDir(t)
  const other = bystander(t)
  // The holder had this pid but started at another time: it crashed, and the pid went to `other`.
  writeFileSync(lock, `${other.pid} ${startTime(other.pid)! - 1}`)
  const db = await openDatabase({ pgliteDir: dir })
  t.teardown(() => db.close())
  t.equal(readFileSync(lock, 'utf8'), `${process.pid} ${startTime(process.pid)}`, 'the lock now names this process')
  t.same(await db.query('SELECT 1 AS one'), [{ one: 1 }])
  await db.close()
  t.throws(() => readFileSync(lock), { code: 'ENOENT' }, 'closing releases it')
})

t.test('the lock of a process that has exited is taken over', async (t) => {
  const { dir, lock } = await initialisedDir(t)
  const gone = bystander(t)
  const started = startTime(gone.pid)
  gone.signal('SIGKILL')
  await gone.exit(5000)
  writeFileSync(lock, `${gone.pid} ${started ?? ''}`.trim())
  const db = await openDatabase({ pgliteDir: dir })
  t.teardown(() => db.close())
  t.equal(readFileSync(lock, 'utf8').split(' ')[0], String(process.pid))
})
