// Before a command reads or writes tables: is the schema up to date? Read-only; creates nothing.
import type { Session } from '../stores/database.js'
import { readMigrations } from '../stores/migrate.js'

export class SchemaOutdated extends Error {
  override name = 'SchemaOutdated'
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

export async function assertMigrated(db: Session): Promise<void> {
  const pending = await pendingMigrations(db)
  if (pending.length > 0) {
    const what = pending.length === 1 ? `migration ${pending[0]} is` : `${pending.length} migrations (${pending[0]}…) are`
    throw new SchemaOutdated(`the database is not migrated: ${what} pending; run \`tessera migrate\` first`)
  }
}
