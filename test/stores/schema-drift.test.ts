// prisma/schema.prisma and prisma/migrations/*/migration.sql must describe the same database.
// `prisma migrate diff` needs a schema-engine binary this machine cannot download, so this test
// does the comparison itself: the structure expected from schema.prisma (derived at run time from
// Prisma's own parser, see test/helpers/schema-structure.ts) against the structure the project's
// migrator really builds on a fresh database, read from the catalog. On both database legs.
//
// When it fails: write the missing migration (see README, "Changing the schema"), or fix
// the schema; the failure lists every difference, worded from schema.prisma's side.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Database } from '../../src/stores/database.js'
import { migrate } from '../../src/stores/migrate.js'
import { LEGS, openTestDatabase } from '../helpers/db.js'
import { actualStructure, diffStructures, expectedStructure, readDatamodel, type Structure } from '../helpers/schema-structure.js'

const SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url))
const SCHEMA = readFileSync(SCHEMA_PATH, 'utf8')

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The body of `model <name> { … }` in the schema text: [start, end) offsets. */
function blockOf(text: string, kind: 'model' | 'enum', name: string): [number, number] {
  const open = new RegExp(`^${kind}\\s+${escapeRegExp(name)}\\s*\\{[^\\n]*\\n`, 'm').exec(text)
  if (!open) throw new Error(`${kind} ${name} not found in schema.prisma`)
  const start = open.index + open[0].length
  const close = /^\}/m.exec(text.slice(start))
  if (!close) throw new Error(`${kind} ${name} has no closing brace at the start of a line`)
  return [start, start + close.index]
}

/** Inserts lines at the start (or end) of a block. */
function insertInto(text: string, kind: 'model' | 'enum', name: string, line: string, at: 'start' | 'end' = 'start'): string {
  const [start, end] = blockOf(text, kind, name)
  const i = at === 'start' ? start : end
  return `${text.slice(0, i)}${line}\n${text.slice(i)}`
}

/** Rewrites the declaration line of one field of a model. */
function editField(text: string, model: string, field: string, edit: (line: string) => string): string {
  const [start, end] = blockOf(text, 'model', model)
  const body = text.slice(start, end)
  const m = new RegExp(`^[ \\t]+${escapeRegExp(field)}[ \\t]+[^\\n]*$`, 'm').exec(body)
  if (!m) throw new Error(`field ${model}.${field} not found in schema.prisma`)
  const line = edit(m[0])
  if (line === m[0]) throw new Error(`the edit of ${model}.${field} changed nothing`)
  return text.slice(0, start) + body.slice(0, m.index) + line + body.slice(m.index + m[0].length) + text.slice(end)
}

/** Adds an attribute to a field line, before any trailing `//` comment. */
const withAttribute = (attr: string) => (line: string) => line.replace(/(\s*\/\/.*)?$/, ` ${attr}$1`)

for (const leg of LEGS) {
  t.test(leg, async (t) => {
    const db = await openTestDatabase(t, leg)
    await migrate(db)
    const expected = expectedStructure(SCHEMA)
    const actual = await actualStructure(db)

    await t.test('the migrations build exactly what schema.prisma describes', async (t) => {
      const drift = diffStructures(expected, actual)
      t.same(drift, [], 'no drift between prisma/schema.prisma and prisma/migrations (a difference needs a new migration: see README, "Changing the schema")')
    })

    await t.test('both sides are really read, not two empty structures', async (t) => {
      const dm = readDatamodel(SCHEMA)
      t.ok(dm.models.length > 0, 'schema.prisma has models')
      t.equal(Object.keys(expected.tables).length >= dm.models.length, true, 'a table is expected for every model')
      t.equal(Object.keys(expected.enums).length, dm.enums.length, 'a type is expected for every enum')
      t.ok(Object.keys(actual.tables).length > 0, 'the migrations built tables')
      const count = (s: Structure, f: (t: Structure['tables'][string]) => number) => Object.values(s.tables).reduce((n, t) => n + f(t), 0)
      t.ok(count(actual, (x) => Object.keys(x.columns).length) > 0, 'columns were read from the catalog')
      t.equal(
        count(actual, (x) => (x.primaryKey ? 1 : 0)),
        count(expected, (x) => (x.primaryKey ? 1 : 0)),
        'primary keys were read',
      )
    })

    // Proof that the comparison can fail: edited copies of schema.prisma (never the file itself)
    // against the database the real migrations built. Each edit is chosen from the DMMF, so
    // the probes keep working as the schema evolves.
    await t.test('drift on the schema.prisma side is caught', async (t) => {
      const dm = readDatamodel(SCHEMA)
      const relationScalars = new Set(dm.models.flatMap((m) => m.fields.flatMap((f) => (f.relationFromFields ?? []).map((n) => `${m.name}.${n}`))))
      const inIndex = new Set(dm.indexes.flatMap((i) => i.fields.map((f) => `${i.model}.${f.name}`)))
      const plain = dm.models.flatMap((m) =>
        m.fields
          .filter((f) => f.kind === 'scalar' && f.isRequired && !f.isList && f.default === undefined)
          .filter((f) => !relationScalars.has(`${m.name}.${f.name}`) && !inIndex.has(`${m.name}.${f.name}`))
          .map((f) => ({ model: m, field: f })),
      )
      const firstModel = dm.models[0]!
      const stringField = plain.find((p) => p.field.type === 'String')
      const unmapped = plain.find((p) => !p.field.dbName)
      const relation = dm.models.flatMap((m) => m.fields.filter((f) => f.relationFromFields?.length).map((f) => ({ model: m, field: f })))[0]
      const firstEnum = dm.enums[0]

      const probe = async (name: string, mutate: () => string, want: RegExp, skip?: string | false) =>
        t.test(name, { skip: skip ?? false }, async (t) => {
          const text = mutate()
          t.not(text, SCHEMA, 'the copy of schema.prisma was changed')
          const drift = diffStructures(expectedStructure(text), actual)
          t.ok(
            drift.some((line) => want.test(line)),
            `the drift is reported (${want})`,
            { found: drift },
          )
        })

      await probe(
        'a field missing from the migrations is caught',
        () => insertInto(SCHEMA, 'model', firstModel.name, '  driftProbe String?'),
        /\.columns\.driftProbe: in schema\.prisma, missing from the migrations/,
      )
      await probe(
        'a renamed column is caught',
        () => editField(SCHEMA, unmapped!.model.name, unmapped!.field.name, withAttribute('@map("drift_probe_renamed")')),
        /\.columns\.drift_probe_renamed: in schema\.prisma, missing from the migrations/,
        !unmapped && 'no plain unmapped field in schema.prisma',
      )
      await probe(
        'a changed nullability is caught',
        () => editField(SCHEMA, plain[0]!.model.name, plain[0]!.field.name, (l) => l.replace(/^(\s+\S+\s+\w+)(?=\s|$)/, '$1?')),
        /\.nullable: schema\.prisma says true, the migrations build false/,
        !plain.length && 'no plain required field in schema.prisma',
      )
      await probe(
        'a changed type is caught',
        () =>
          editField(SCHEMA, stringField!.model.name, stringField!.field.name, (l) =>
            l.replace(/^(\s+\S+\s+)String\b/, '$1Int').replace(/\s*@db\.\w+(\([^)]*\))?/, ''),
          ),
        /\.type: schema\.prisma says "integer", the migrations build /,
        !stringField && 'no plain String field in schema.prisma',
      )
      await probe(
        'an index missing from the migrations is caught',
        () => insertInto(SCHEMA, 'model', plain[0]!.model.name, `  @@index([${plain[0]!.field.name}], map: "drift_probe_idx")`, 'end'),
        /\.indexes\.drift_probe_idx: in schema\.prisma, missing from the migrations/,
        !plain.length && 'no plain field in schema.prisma',
      )
      await probe(
        'a unique constraint missing from the migrations is caught',
        () => editField(SCHEMA, plain[0]!.model.name, plain[0]!.field.name, withAttribute('@unique')),
        /\.indexes\.\S+_key: in schema\.prisma, missing from the migrations: \{"unique":true/,
        !plain.length && 'no plain field in schema.prisma',
      )
      await probe(
        'a changed ON DELETE action is caught',
        () =>
          editField(SCHEMA, relation!.model.name, relation!.field.name, (l) =>
            /onDelete:\s*\w+/.test(l)
              ? l.replace(/onDelete:\s*(\w+)/, (_, a: string) => `onDelete: ${a === 'NoAction' ? 'Restrict' : 'NoAction'}`)
              : l.replace('@relation(', '@relation(onDelete: NoAction, '),
          ),
        /\.foreignKeys\.\(.*\)\.onDelete: schema\.prisma says /,
        !relation && 'no relation in schema.prisma',
      )
      await probe(
        'an enum value missing from the migrations is caught',
        () => insertInto(SCHEMA, 'enum', firstEnum!.name, '  driftProbe'),
        /^enums\.\S+: schema\.prisma says \[.*"driftProbe"/,
        !firstEnum && 'no enum in schema.prisma',
      )
    })

    // And the other way round: a migration that builds something else. Each change is made in a
    // transaction that is rolled back.
    await t.test('drift on the migrations side is caught', async (t) => {
      const tables = Object.entries(actual.tables)
      const columns = tables.flatMap(([table, x]) =>
        Object.entries(x.columns).map(([column, c]) => ({ table, column, ...c, pk: x.primaryKey?.columns.includes(column) ?? false })),
      )
      const fkColumns = new Set(
        tables.flatMap(([table, x]) =>
          Object.keys(x.foreignKeys).flatMap((k) =>
            /^\(([^)]*)\)/
              .exec(k)![1]!
              .split(', ')
              .map((c) => `${table}.${c}`),
          ),
        ),
      )
      const notNull = columns.find((c) => !c.nullable && !c.pk)
      const text = columns.find((c) => c.type === 'text' && !c.pk && !fkColumns.has(`${c.table}.${c.column}`))
      const withDefault = columns.find((c) => c.default !== null && c.default !== 'autoincrement()')
      const index = tables.flatMap(([table, x]) => Object.keys(x.indexes).map((name) => ({ table, name })))[0]
      const [fk] = await db.query<{ table: string; name: string }>(
        `SELECT c.relname AS table, con.conname AS name FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
         WHERE con.contype = 'f' ORDER BY 1, 2 LIMIT 1`,
      )
      const firstEnum = Object.keys(actual.enums)[0]
      const [table, first] = tables[0]!
      const firstColumn = Object.keys(first.columns)[0]!

      const probe = async (name: string, ddl: () => string, want: RegExp, skip?: string | false) =>
        t.test(name, { skip: skip ?? false }, async (t) => {
          const drift = await driftAfter(db, ddl(), expected)
          t.ok(
            drift.some((line) => want.test(line)),
            `the drift is reported (${want})`,
            { found: drift },
          )
        })

      await probe(
        'a column not in schema.prisma is caught',
        () => `ALTER TABLE ${quote(table)} ADD COLUMN drift_probe integer`,
        /\.columns\.drift_probe: built by the migrations, not in schema\.prisma/,
      )
      await probe(
        'a renamed column is caught',
        () => `ALTER TABLE ${quote(table)} RENAME COLUMN ${quote(firstColumn)} TO drift_probe_renamed`,
        new RegExp(`\\.columns\\.${escapeRegExp(firstColumn)}: in schema\\.prisma, missing from the migrations`),
      )
      await probe(
        'a dropped NOT NULL is caught',
        () => `ALTER TABLE ${quote(notNull!.table)} ALTER COLUMN ${quote(notNull!.column)} DROP NOT NULL`,
        /\.nullable: schema\.prisma says false, the migrations build true/,
        !notNull && 'no NOT NULL column',
      )
      await probe(
        'a changed type is caught',
        () => `ALTER TABLE ${quote(text!.table)} ALTER COLUMN ${quote(text!.column)} TYPE varchar(255)`,
        /\.type: schema\.prisma says "text", the migrations build "character varying\(255\)"/,
        !text && 'no text column',
      )
      await probe(
        'a changed default is caught',
        () => `ALTER TABLE ${quote(withDefault!.table)} ALTER COLUMN ${quote(withDefault!.column)} DROP DEFAULT`,
        /\.default: schema\.prisma says .*, the migrations build null/,
        !withDefault && 'no column with a default',
      )
      await probe(
        'a missing index is caught',
        () => `DROP INDEX ${quote(index!.name)}`,
        new RegExp(`\\.indexes\\.${escapeRegExp(index?.name ?? '')}: in schema\\.prisma, missing from the migrations`),
        !index && 'no index',
      )
      await probe(
        'an extra index is caught',
        () => `CREATE INDEX drift_probe_idx ON ${quote(table)} (${quote(firstColumn)})`,
        /\.indexes\.drift_probe_idx: built by the migrations, not in schema\.prisma/,
      )
      await probe(
        'a missing foreign key is caught',
        () => `ALTER TABLE ${quote(fk!.table)} DROP CONSTRAINT ${quote(fk!.name)}`,
        /\.foreignKeys\.\(.*: in schema\.prisma, missing from the migrations/,
        !fk && 'no foreign key',
      )
      await probe(
        'an extra enum value is caught',
        () => `ALTER TYPE ${quote(firstEnum!)} ADD VALUE 'drift_probe'`,
        /^enums\.\S+: schema\.prisma says .*, the migrations build \[.*"drift_probe"/,
        !firstEnum && 'no enum',
      )

      t.same(diffStructures(expected, await actualStructure(db)), [], 'every change was rolled back')
    })
  })
}

/** The drift after running `ddl` on the migrated database, in a transaction rolled back afterwards. */
async function driftAfter(db: Database, ddl: string, expected: Structure): Promise<string[]> {
  return db.withLock('schema-drift-probe', async (s) => {
    await s.exec('BEGIN')
    try {
      await s.exec(ddl)
      return diffStructures(expected, await actualStructure(s))
    } finally {
      await s.exec('ROLLBACK')
    }
  })
}
