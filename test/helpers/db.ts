// The two database legs every storage-touching test runs on: embedded PGlite (in memory) and
// a real Postgres database created for the test on the cluster `npm test` started.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { type Connection, openDatabase } from '../../src/stores/database.js'
import { migrate } from '../../src/stores/migrate.js'

export const LEGS = ['pglite', 'postgres'] as const
export type Leg = (typeof LEGS)[number]

interface Teardown {
  teardown(fn: () => unknown): void
}

export function postgresAdminUrl(): string {
  const url = process.env.TESSERA_TEST_PG_URL
  if (!url) throw new Error('TESSERA_TEST_PG_URL is not set: run the suite with `npm test`, which starts Postgres')
  return url
}

/** A fresh, empty Postgres database; dropped at teardown. Returns its URL. */
export async function createPostgresDatabase(t: Teardown): Promise<string> {
  const admin = postgresAdminUrl()
  const name = `t_${randomBytes(6).toString('hex')}`
  const client = new pg.Client(admin)
  await client.connect()
  await client.query(`CREATE DATABASE ${name}`)
  await client.end()
  t.teardown(async () => {
    const c = new pg.Client(admin)
    await c.connect()
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await c.end()
  })
  const url = new URL(admin)
  url.pathname = `/${name}`
  return url.toString()
}

let template: Promise<Blob> | undefined

/**
 * An in-memory PGlite with every migration applied, dumped once per test process: each
 * migrated PGlite then starts as a copy of it, instead of paying for initdb and the
 * migrations again (seconds each on a busy machine).
 */
function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const db = await openDatabase({ pgliteDir: 'memory://' })
    try {
      await migrate(db)
      return await db.dump!()
    } finally {
      await db.close()
    }
  })()
  return template
}

/**
 * Opens a database of the given leg, empty or (`migrated`) with every migration applied;
 * closed (and dropped) at teardown.
 */
export async function openTestDatabase(t: Teardown, leg: Leg, opts: { migrated?: boolean } = {}): Promise<Connection> {
  const databaseUrl = leg === 'postgres' ? await createPostgresDatabase(t) : undefined
  const pgliteTemplate = leg === 'pglite' && opts.migrated ? await migratedTemplate() : undefined
  const db = await openDatabase({ databaseUrl, pgliteDir: 'memory://', pgliteTemplate })
  // Registered after the drop, so it runs first (tap runs teardowns in reverse order).
  t.teardown(() => db.close())
  return db
}
