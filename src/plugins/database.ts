// Opens the database (or takes one given), applies pending migrations, builds the repositories
// and the audit trail over it, and closes it on shutdown.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type AuditTrail, auditTrail } from '../audit/trail.js'
import type { Config } from '../config/index.js'
import { countRevocations } from '../metrics/revocations.js'
import { type Connection, type Database, openDatabase } from '../stores/database.js'
import { createStores, type Stores } from '../stores/index.js'
import { migrate } from '../stores/migrate.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
    /** The whole connection, for the CLI commands the server runs beside it (src/cli/channel-server.ts) only: routes use db and stores. */
    connection: Connection
    stores: Stores
    audit: AuditTrail
  }
}

export interface DatabasePluginOptions {
  config: Config
  /** An already open database (tests, the CLI); the caller closes it. */
  db?: Connection | undefined
}

async function database(app: FastifyInstance, opts: DatabasePluginOptions) {
  const { config } = opts
  const db =
    opts.db ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      pgliteDir: config.pgliteDir,
      connectTimeoutMs: config.databaseConnectTimeout * 1000,
      statementTimeoutMs: config.databaseStatementTimeout * 1000,
    }))
  if (!opts.db) app.addHook('onClose', () => db.close())
  const { applied, modified } = await migrate(db)
  if (applied.length) app.log.info({ applied }, 'applied migrations')
  if (modified.length) app.log.warn({ modified }, 'migrations changed after they were applied')
  // The rest of Tessera gets the narrow Database and the repositories, never the connection
  // itself. Clients are read on every /token request: cached, a change reaches every instance
  // within 5 s.
  app.decorate('db', db as Database)
  app.decorate('connection', db)
  // Revocations are counted where the rows change (metrics/revocations.ts).
  const stores = countRevocations(createStores(db, { clientCacheMs: 5000 }), app.metrics)
  app.decorate('stores', stores)
  app.decorate('audit', auditTrail(stores.audit, app.clock, app.log))
}

export default fp(database, { name: 'database' })
