// What a database holds, read from the catalog in one generic shape, so that two databases built
// two ways can be compared: every entry is a `kind name` key with the server's own spelling of it.
//   table <t>                           'table'
//   column <t>.<c>                      format_type, NOT NULL, DEFAULT pg_get_expr
//   primary key|foreign key|unique|exclusion <t>.<name>
//                                       pg_get_constraintdef (columns, referenced table, actions)
//   index <t>.<name>                    pg_indexes.indexdef, without the table's schema
//   enum <type>                         its labels, in order
// Only the current schema is read (tables, constraints and types outside it are not), and names
// are printed as seen from it, so the same structure reads the same in any schema. Not read:
// CHECK constraints (Prisma does not model them), PostgreSQL 18's NOT NULL constraints (the
// column says it), column order, sequences, views, functions, triggers, extensions, comments,
// and Prisma's `_prisma_migrations` table.
import type { Connection, Session } from '../../src/stores/database.js'

export type Snapshot = Record<string, string>

const SNAPSHOT = `
WITH s AS (SELECT oid, nspname FROM pg_namespace WHERE nspname = current_schema()),
rel AS (
  SELECT c.oid, c.relname FROM pg_class c JOIN s ON c.relnamespace = s.oid
  WHERE c.relkind IN ('r', 'p') AND c.relname <> '_prisma_migrations'
)
SELECT format('table %I', relname) AS key, 'table' AS value FROM rel
UNION ALL
SELECT format('column %I.%I', r.relname, a.attname),
       concat_ws(' ', format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'NOT NULL' END, 'DEFAULT ' || pg_get_expr(d.adbin, d.adrelid))
FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
UNION ALL
SELECT format('%s %I.%I', CASE con.contype WHEN 'p' THEN 'primary key' WHEN 'f' THEN 'foreign key' WHEN 'u' THEN 'unique' ELSE 'exclusion' END, r.relname, con.conname),
       pg_get_constraintdef(con.oid)
FROM rel r JOIN pg_constraint con ON con.conrelid = r.oid AND con.contype IN ('p', 'f', 'u', 'x')
UNION ALL
SELECT format('index %I.%I', r.relname, i.indexname),
       replace(replace(i.indexdef, ' ON ONLY ' || quote_ident(i.schemaname) || '.', ' ON ONLY '), ' ON ' || quote_ident(i.schemaname) || '.', ' ON ')
FROM pg_indexes i JOIN s ON i.schemaname = s.nspname JOIN rel r ON r.relname = i.tablename
UNION ALL
SELECT format('enum %I', t.typname), (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
FROM pg_type t JOIN s ON t.typnamespace = s.oid WHERE t.typtype = 'e'`

/** The current schema of the session (`public`, unless search_path says otherwise). */
export async function readSnapshot(session: Pick<Session, 'query'>): Promise<Snapshot> {
  const rows = await session.query<{ key: string; value: string | null }>(SNAPSHOT)
  return Object.fromEntries(rows.sort((x, y) => (x.key < y.key ? -1 : 1)).map((r) => [r.key, r.value ?? '']))
}

/**
 * Runs the scripts in a schema of their own, in one transaction on an otherwise untouched database,
 * snapshots what they built, and rolls everything back. The scripts must not name a schema (Prisma's
 * DDL and migrations do not, for a datasource without `schemas`); one that does fails on the tables
 * already in `public`, or reads as drift.
 */
export async function snapshotOf(db: Pick<Connection, 'withLockedSession'>, scripts: string[]): Promise<Snapshot> {
  return db.withLockedSession('catalog-snapshot', async (s) => {
    await s.exec('BEGIN')
    try {
      await s.exec('CREATE SCHEMA catalog_snapshot; SET LOCAL search_path TO catalog_snapshot')
      for (const sql of scripts) await s.exec(sql)
      return await readSnapshot(s)
    } finally {
      await s.exec('ROLLBACK')
    }
  })
}

/** Every difference, one line each, worded from `a`'s side: [label of a, label of b]. */
export function diffSnapshots(a: Snapshot, b: Snapshot, [la, lb]: [string, string]): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  return keys.flatMap((k) => {
    const [va, vb] = [a[k], b[k]]
    if (va === vb) return []
    if (vb === undefined) return [`${k}: only in ${la}: ${va}`]
    if (va === undefined) return [`${k}: only in ${lb}: ${vb}`]
    return [`${k}: ${la}: ${va} | ${lb}: ${vb}`]
  })
}
