// Applies prisma/migrations the way `prisma migrate deploy` does, recording each in
// `_prisma_migrations` (same table, same sha256 checksum), so operators may use either tool.
// Prisma's own CLI needs a schema-engine binary that cannot be downloaded everywhere.
import { createHash, randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { OperatorError } from '../lib/errors.js'
import type { Connection, Session } from './database.js'

const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url))

export interface Migration {
  name: string
  sql: string
  checksum: string
}

class MigrationError extends OperatorError {
  override name = 'MigrationError'
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8')
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') }
    })
}

// Prisma's own definition of the table.
const HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`

interface Applied {
  migration_name: string
  checksum: string
  finished_at: Date | null
  rolled_back_at: Date | null
}

/** Names of migrations not applied (or failed) on this database, in order. */
export async function pendingMigrations(db: Session): Promise<string[]> {
  const all = readMigrations().map((m) => m.name)
  const [history] = await db.query<{ present: boolean }>(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`)
  if (!history?.present) return all
  const rows = await db.query<{ migration_name: string }>(
    'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
  )
  const done = new Set(rows.map((r) => r.migration_name))
  return all.filter((name) => !done.has(name))
}

export interface MigrateResult {
  applied: string[]
  /** Migrations whose file changed after it was applied (Prisma warns about these too). */
  modified: string[]
}

/** Applies every pending migration, each in its own transaction, under a cluster-wide lock. */
export async function migrate(db: Connection, migrations = readMigrations()): Promise<MigrateResult> {
  return db.withLockedSession('migrate', async (s) => {
    await s.exec(HISTORY_TABLE)
    const rows = await s.query<Applied>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL')
    const failed = rows.find((r) => r.finished_at === null)
    if (failed) {
      throw new MigrationError(
        `migration ${failed.migration_name} failed earlier and was not rolled back; fix the database, then mark it with \`prisma migrate resolve\``,
      )
    }
    const done = new Map(rows.map((r) => [r.migration_name, r.checksum]))
    const result: MigrateResult = { applied: [], modified: [] }
    for (const m of migrations) {
      const checksum = done.get(m.name)
      if (checksum !== undefined) {
        if (checksum !== m.checksum) result.modified.push(m.name)
        continue
      }
      await apply(s, m)
      result.applied.push(m.name)
    }
    return result
  })
}

async function apply(s: Session, m: Migration): Promise<void> {
  const id = randomUUID()
  await s.exec('BEGIN')
  try {
    await s.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())', [id, m.checksum, m.name])
    await s.exec(m.sql)
    await s.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id])
    await s.exec('COMMIT')
  } catch (err) {
    await s.exec('ROLLBACK')
    throw new MigrationError(`migration ${m.name} failed: ${(err as Error).message}`)
  }
}
