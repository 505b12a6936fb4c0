// Security review, finding 1: what Tessera keeps on disk is its owner's only. The embedded
// database's directory (PGLITE_DIR, password hashes in its tables and WAL) and the key file's
// directory are created 0700, an existing one that holds nothing yet is tightened, and one
// that holds data but lets group or others in stops the start with one line naming it, its
// mode and the `chmod 700` that fixes it, as Postgres does for its data directory.
import { chmodSync, cpSync, lstatSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadKek } from '../../src/keys/sealing.js'
import { OperatorError } from '../../src/lib/errors.js'
import { openDatabase } from '../../src/stores/database.js'
import { createPostgresDatabase } from '../helpers/db.js'
import { scratch, startServer } from '../helpers/process.js'
import { within } from '../helpers/wait.js'

const modeOf = (path: string) => statSync(path).mode & 0o777
const octal = (mode: number) => `0${mode.toString(8)}`
const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Every file or directory under `dir` that group or others may read, write or enter. */
function openToOthers(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isSymbolicLink())
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => (lstatSync(p).mode & 0o077) !== 0)
    .map((p) => `${p.slice(dir.length + 1)} ${octal(lstatSync(p).mode & 0o777)}`)
}

/** What opening `dir` gave: the error it was refused with, or 'opened' (closed again at once). */
async function openOutcome(dir: string): Promise<unknown> {
  return openDatabase({ pgliteDir: dir }).then(
    (db) => db.close().then(() => 'opened'),
    (err: unknown) => err,
  )
}

const refusal = (what: string, dir: string, mode: number) =>
  new RegExp(`^${quote(what)} ${quote(dir)} has mode ${octal(mode)}\\b[^\\n]*run \`chmod 700 ${quote(dir)}\`[^\\n]*$`)

// One PGlite directory made by the first test and reused below (each initdb is seconds of WASM).
const kept = scratch(t, 'tessera-perm-kept-')
let initialised: string | undefined

t.test('PGLITE_DIR: created 0700, and nothing in it is open to group or others', async (t) => {
  const parent = scratch(t, 'tessera-perm-')
  const dir = join(parent, 'data')
  const db = await openDatabase({ pgliteDir: dir })
  t.equal(octal(modeOf(dir)), '0700', 'the directory is the owner’s only')
  await db.exec(`CREATE TABLE secrets (hash text); INSERT INTO secrets SELECT md5(g::text) FROM generate_series(1, 2000) AS g; CHECKPOINT;`)
  t.same(openToOthers(dir), [], 'no file or directory in it is open to group or others, while open')
  await db.close()
  t.same(openToOthers(dir), [], 'nor once closed')
  initialised = join(kept, 'data')
  cpSync(dir, initialised, { recursive: true })
  chmodSync(initialised, 0o700)
})

t.test('PGLITE_DIR: an existing empty directory open to others is tightened to 0700', async (t) => {
  const dir = join(scratch(t, 'tessera-perm-'), 'data')
  mkdirSync(dir)
  chmodSync(dir, 0o755)
  t.equal(await openOutcome(dir), 'opened')
  t.equal(octal(modeOf(dir)), '0700')
  t.same(openToOthers(dir), [])
})

t.test('PGLITE_DIR: a database directory open to group or others is refused, with one line that says how to fix it', async (t) => {
  t.ok(initialised, 'an initialised directory from the first test')
  for (const mode of [0o755, 0o750, 0o705, 0o701, 0o770]) {
    chmodSync(initialised!, mode)
    const outcome = await openOutcome(initialised!)
    t.type(outcome, OperatorError, `${octal(mode)}: refused with an OperatorError`)
    t.match(
      (outcome as Error).message,
      refusal("the embedded database's directory", initialised!, mode),
      `${octal(mode)}: one line naming it, its mode and the chmod`,
    )
    t.equal(modeOf(initialised!), mode, `${octal(mode)}: the directory is left as it was`)
  }
  chmodSync(initialised!, 0o700)
  t.equal(await openOutcome(initialised!), 'opened', 'after `chmod 700` it opens')
})

t.test('the key file: its directory is created 0700, the file 0600', async (t) => {
  const keyFile = join(scratch(t, 'tessera-perm-'), 'keys', 'encryption.key')
  loadKek({ nodeEnv: 'development', keyEncryptionKey: undefined, keyFile })
  t.equal(octal(modeOf(join(keyFile, '..'))), '0700')
  t.equal(octal(modeOf(keyFile)), '0600')
  t.equal(loadKek({ nodeEnv: 'development', keyEncryptionKey: undefined, keyFile }).length, 32, 'and it is read back')
})

t.test('the key file: an existing directory without a key (a checkout’s keys/) is tightened before the key is written', async (t) => {
  const dir = join(scratch(t, 'tessera-perm-'), 'keys')
  mkdirSync(dir)
  writeFileSync(join(dir, 'README.md'), 'The development key-encryption key is written here.\n')
  chmodSync(dir, 0o755)
  loadKek({ nodeEnv: 'development', keyEncryptionKey: undefined, keyFile: join(dir, 'encryption.key') })
  t.equal(octal(modeOf(dir)), '0700')
  t.equal(octal(modeOf(join(dir, 'encryption.key'))), '0600')
})

t.test('the key file: a directory holding the key but open to others is refused', async (t) => {
  const dir = join(scratch(t, 'tessera-perm-'), 'keys')
  const keyFile = join(dir, 'encryption.key')
  loadKek({ nodeEnv: 'development', keyEncryptionKey: undefined, keyFile })
  for (const mode of [0o755, 0o750, 0o711]) {
    chmodSync(dir, mode)
    t.throws(
      () => loadKek({ nodeEnv: 'development', keyEncryptionKey: undefined, keyFile }),
      { name: 'KeyEncryptionError', message: refusal("the key file's directory", dir, mode) },
      `${octal(mode)}: refused`,
    )
    t.throws(
      () => loadKek({ nodeEnv: 'production', keyEncryptionKey: undefined, keyFile }),
      { name: 'KeyEncryptionError' },
      `${octal(mode)}: in production too`,
    )
    t.equal(modeOf(dir), mode, 'left as it was')
  }
  chmodSync(dir, 0o700)
  t.equal(loadKek({ nodeEnv: 'development', keyEncryptionKey: undefined, keyFile }).length, 32)
})

t.test('KEY_ENCRYPTION_KEY given: the key file and its directory are not touched', async (t) => {
  const dir = join(scratch(t, 'tessera-perm-'), 'keys')
  loadKek({ nodeEnv: 'development', keyEncryptionKey: Buffer.alloc(32, 1), keyFile: join(dir, 'encryption.key') })
  t.throws(() => statSync(dir), { code: 'ENOENT' })
})

t.test('the server refuses to start: exit 1, one line on stderr', async (t) => {
  t.ok(initialised)
  const box = scratch(t, 'tessera-perm-server-')
  // The database directory: a copy of the initialised one, as `cp -r` under umask 022 leaves it.
  const data = join(box, 'data')
  cpSync(initialised!, data, { recursive: true })
  chmodSync(data, 0o755)
  // The key directory: a key in it, and the directory open to others; the database is Postgres.
  const keys = join(box, 'keys')
  loadKek({ nodeEnv: 'development', keyEncryptionKey: undefined, keyFile: join(keys, 'encryption.key') })
  chmodSync(keys, 0o755)
  const databaseUrl = await createPostgresDatabase(t)
  const servers = [
    { what: "the embedded database's directory", dir: data, env: { PGLITE_DIR: data, KEY_FILE: join(box, 'other.key') } as Record<string, string> },
    { what: "the key file's directory", dir: keys, env: { DATABASE_URL: databaseUrl, PGLITE_DIR: data, KEY_FILE: join(keys, 'encryption.key') } },
  ].map((s) => ({ ...s, server: startServer(t, box, s.env, s.what) }))
  const exits = await Promise.all(servers.map(async (s) => within((await s.server).closed, 30_000)))
  for (const [i, s] of servers.entries()) {
    const server = await s.server
    const exit = exits[i]
    t.same(exit, { code: 1, signal: null }, `${s.what}: exits 1`)
    const lines = server.stderr().split('\n').filter(Boolean)
    t.equal(lines.length, 1, `${s.what}: one line on stderr`)
    t.match(lines[0], new RegExp(`^tessera: ${refusal(s.what, s.dir, 0o755).source.slice(1)}`), `${s.what}: names it, its mode and the chmod`)
  }
})
