// Rows the benchmark needs, written with SQL straight into Tessera's (migrated) database:
// one confidential client, users with a precomputed argon2id hash, and refresh families in bulk.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { hashPassword } from '../../src/accounts/passwords.js'
import { randomSecret, sha256 } from '../../src/lib/secrets.js'

export const PASSWORD = 'correct horse battery staple'

export interface BenchClient {
  id: string
  secret: string
  /** The Authorization header: RFC 6749 §2.3.1 Basic credentials. */
  basic: string
}

export interface BenchUser {
  id: string
  email: string
}

export async function connect(url: string): Promise<pg.Client> {
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  return db
}

/** A confidential client allowed every grant, stored as registerClient stores one (SHA-256 of the secret). */
export async function seedClient(db: pg.Client): Promise<BenchClient> {
  const id = `bench-${randomBytes(8).toString('hex')}`
  const secret = randomSecret(32)
  await db.query(
    `INSERT INTO clients (id, name, secret_hash, public, cookie_delivery, grant_types, scopes, audience, updated_at)
     VALUES ($1, 'benchmark client', $2, false, false, $3, $4, NULL, now())`,
    [id, sha256(secret), ['password', 'refresh_token', 'client_credentials'], ['read', 'write']],
  )
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
  return { id, secret, basic }
}

/**
 * `count` users sharing one argon2id hash of PASSWORD made at Tessera's parameters (so the
 * password grant verifies it at full cost and never rehashes): one hash instead of `count`.
 */
export async function seedUsers(db: pg.Client, prefix: string, count: number): Promise<BenchUser[]> {
  const hash = await hashPassword(PASSWORD)
  const { rows } = await db.query<BenchUser>(
    `INSERT INTO users (id, email, password_hash, role, updated_at)
     SELECT gen_random_uuid(), $1 || g || '@bench.example', $2, 'user', now() FROM generate_series(1, $3::int) AS g
     RETURNING id, email`,
    [prefix, hash, count],
  )
  return rows.sort((a, b) => a.email.localeCompare(b.email, 'en', { numeric: true }))
}

export async function countFamilies(db: pg.Client): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM refresh_families')
  return Number(rows[0]!.n)
}

/**
 * Tops the refresh_families table up to `total` rows with one generate_series INSERT: live,
 * valid families (every NOT NULL column, the foreign keys to a real user and client, the
 * active kid) that no benchmark token points at. Returns how many were added.
 */
export async function seedFamilies(db: pg.Client, f: { total: number; userId: string; clientId: string }): Promise<number> {
  const missing = f.total - (await countFamilies(db))
  if (missing <= 0) return 0
  const kid = await activeKid(db)
  const tag = randomBytes(4).toString('hex')
  const iat = Math.floor(Date.now() / 1000)
  await db.query(
    `INSERT INTO refresh_families (id, user_id, client_id, scope, current_jti, current_kid, current_iat, current_exp,
                                   expires_at, idle_expires_at, created_at, last_used_at)
     SELECT gen_random_uuid(), $1::uuid, $2, 'read write', 'seed-' || $3 || '-' || g, $4, $5::int, $5::int + 604800,
            now() + interval '30 days', now() + interval '7 days', now(), now()
       FROM generate_series(1, $6::int) AS g`,
    [f.userId, f.clientId, tag, kid, iat, missing],
  )
  // Vacuumed, with fresh statistics: the state a table of that size is in after autovacuum has
  // been by. Without it, autovacuum's first pass over the new rows (PostgreSQL 13+ vacuums after
  // inserts too) ran during the next refresh load, on core 1 with Postgres and the load
  // generator: seen finishing 26 s into the 1,000,000-family load.
  await db.query('VACUUM (ANALYZE) refresh_families')
  return missing
}

async function activeKid(db: pg.Client): Promise<string> {
  const { rows } = await db.query<{ kid: string }>(`SELECT kid FROM signing_keys WHERE state = 'active'`)
  if (!rows[0]) throw new Error('no active signing key in the database')
  return rows[0].kid
}
