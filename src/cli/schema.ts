// Before a command reads or writes tables: is the schema up to date? Read-only; creates nothing.
import { OperatorError } from '../lib/errors.js'
import type { Session } from '../stores/database.js'
import { pendingMigrations } from '../stores/migrate.js'

class SchemaOutdated extends OperatorError {
  override name = 'SchemaOutdated'
}

export async function assertMigrated(db: Session): Promise<void> {
  const pending = await pendingMigrations(db)
  if (pending.length > 0) {
    const what = pending.length === 1 ? `migration ${pending[0]} is` : `${pending.length} migrations (${pending[0]}…) are`
    throw new SchemaOutdated(`the database is not migrated: ${what} pending; run \`tessera migrate\` first`)
  }
}
