// `tessera migrate`: applies pending migrations, the same way the server does at start.
import { migrate as applyMigrations, readMigrations } from '../../stores/migrate.js'
import type { Runner } from '../command.js'

export const migrate: Runner = async ({ db }) => {
  const { applied, modified } = await applyMigrations(db)
  const lines =
    applied.length === 0
      ? [`Nothing to apply: the database is up to date (${readMigrations().length} migrations).`]
      : [`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:`, ...applied.map((name) => `  ${name}`)]
  // Prisma warns about these too: the file on disk is not what ran.
  for (const name of modified) lines.push(`warning: migration ${name} was changed after it was applied`)
  return { json: { applied, modified }, text: lines.join('\n') }
}
