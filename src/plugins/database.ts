// Opens the database (or takes one given), applies pending migrations, closes it on shutdown.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config/index.js'
import { type Database, openDatabase } from '../stores/database.js'
import { createStores, type Stores } from '../stores/index.js'
import { migrate } from '../stores/migrate.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
    stores: Stores
  }
}

export interface DatabasePluginOptions {
  config: Config
  /** An already open database (tests, the CLI); the caller closes it. */
  db?: Database | undefined
}

async function database(app: FastifyInstance, opts: DatabasePluginOptions) {
  const db = opts.db ?? (await openDatabase({ databaseUrl: opts.config.databaseUrl, pgliteDir: opts.config.pgliteDir }))
  if (!opts.db) app.addHook('onClose', () => db.close())
  const { applied, modified } = await migrate(db)
  if (applied.length) app.log.info({ applied }, 'applied migrations')
  if (modified.length) app.log.warn({ modified }, 'migrations changed after they were applied')
  app.decorate('db', db)
}

export default fp(database, { name: 'database' })

/** The repositories over the database; clients are read on every /token request, so a change reaches every instance within 5 s. */
export const stores = fp(
  async (app: FastifyInstance) => {
    app.decorate('stores', createStores(app.db, { clientCacheMs: 5000 }))
  },
  { name: 'stores', dependencies: ['database'] },
)
