// Builds the app for a test on one database leg, and closes everything at teardown.
import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { type App, buildApp } from '../../src/app.js'
import { type Config, loadConfig } from '../../src/config/index.js'
import type { Clock } from '../../src/lib/clock.js'
import type { Connection } from '../../src/stores/database.js'
import { LEGS, type Leg, openTestDatabase } from './db.js'

export { LEGS, type Leg }

/**
 * A test configuration: quiet, a fixed key-encryption key, key file in a temp dir, and no
 * per-address rate limits nor lockout (a test sends far more requests from one address than a
 * person would): the tests of those turn them on.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'))
  return loadConfig(
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      KEY_RING_POLL: '0',
      PURGE_INTERVAL: '0',
      KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      KEY_FILE: join(dir, 'kek'),
      RATE_LIMIT_TOKEN: '0',
      RATE_LIMIT_SIGNUP: '0',
      RATE_LIMIT_PASSWORD: '0',
      RATE_LIMIT_SIGNIN: '0',
      LOCKOUT_THRESHOLD: '0',
      ...env,
    },
    dir,
  )
}

export interface Built {
  app: App
  db: Connection
  config: Config
}

export interface BuildOptions {
  env?: Record<string, string>
  clock?: Clock
  /** Reuse a database (and its keys) from an earlier build, e.g. to test a restart. */
  db?: Connection
  config?: Config
}

export async function build(t: { teardown(fn: () => unknown): void }, leg: Leg, opts: BuildOptions = {}): Promise<Built> {
  const config = opts.config ?? testConfig(opts.env)
  const db = opts.db ?? (await openTestDatabase(t, leg, { migrated: true }))
  const app = await buildApp({ config, db, clock: opts.clock })
  t.teardown(() => app.close())
  await app.ready()
  return { app, db, config }
}

/** Runs `fn` once per database leg, as subtests named after the leg. */
export function eachLeg(t: Test, fn: (t: Test, leg: Leg) => Promise<void>): void {
  for (const leg of LEGS) t.test(leg, (sub) => fn(sub, leg))
}
