// prisma/schema.prisma and prisma/migrations/*/migration.sql must describe the same database.
// On each database leg: the DDL Prisma's own schema engine writes for schema.prisma on an empty
// database (test/helpers/prisma-ddl.ts) is run in a schema of its own, the project's migrator
// builds the database from the migrations, and the two are read back from the catalog by the same
// reader (test/helpers/catalog-snapshot.ts) and must be equal.
//
// When it fails: write the missing migration (see README, "Changing the schema"), or fix the
// schema; the failure lists every difference, `schema.prisma: …` against `migrations: …`.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { migrate, readMigrations } from '../../src/stores/migrate.js'
import { diffSnapshots, readSnapshot, type Snapshot, snapshotOf } from '../helpers/catalog-snapshot.js'
import { LEGS, openTestDatabase } from '../helpers/db.js'
import { installedEnginesVersion, openSchemaEngine, schemaEngineVersion } from '../helpers/prisma-ddl.js'

const engine = await openSchemaEngine(t)
const SCHEMA = readFileSync(fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url)), 'utf8')
const MIGRATIONS = readMigrations().map((m) => m.sql)
const DDL = await engine.ddl(SCHEMA)
const drift = (fromSchema: Snapshot, fromMigrations: Snapshot) => diffSnapshots(fromSchema, fromMigrations, ['schema.prisma', 'migrations'])
const count = (s: Snapshot, kind: string) => Object.keys(s).filter((k) => k.startsWith(`${kind} `)).length

/** Inserts a line at the start (or the end) of the first `model`/`enum` block of the schema text. */
function intoFirst(text: string, kind: 'model' | 'enum', line: string, at: 'start' | 'end' = 'start'): string {
  const open = new RegExp(`^${kind}\\s+\\w+\\s*\\{[^\\n]*\\n`, 'm').exec(text)
  if (!open) throw new Error(`no ${kind} in schema.prisma`)
  const start = open.index + open[0].length
  const i = at === 'start' ? start : start + /^\}/m.exec(text.slice(start))!.index
  return `${text.slice(0, i)}${line}\n${text.slice(i)}`
}

/** The statements of a migration script, each with its semicolon (Prisma's layout: one per line end). */
const statements = (sql: string) => sql.split(/(?<=;)[ \t]*\r?\n/)

t.test('the schema engine is the one of the installed Prisma', async (t) => {
  t.equal(
    await schemaEngineVersion(),
    installedEnginesVersion(),
    'after upgrading prisma, set @prisma/schema-engine-wasm in package.json to the version of the installed @prisma/engines-version',
  )
})

for (const leg of LEGS) {
  t.test(leg, async (t) => {
    const db = await openTestDatabase(t, leg)
    await migrate(db)
    const migrated = await readSnapshot(db)
    const expected = await snapshotOf(db, [DDL])

    await t.test('the migrations build exactly what schema.prisma describes', async (t) => {
      const found = drift(expected, migrated)
      for (const line of found) t.fail(line, { diagnostic: false })
      t.equal(
        found.length,
        0,
        'no drift between prisma/schema.prisma and prisma/migrations (a difference needs a new migration: see README, "Changing the schema")',
      )
    })

    await t.test('both sides are really read, not two empty snapshots', async (t) => {
      const models = SCHEMA.match(/^model\s/gm)?.length ?? 0
      const enums = SCHEMA.match(/^enum\s/gm)?.length ?? 0
      t.ok(models > 0, 'schema.prisma has models')
      for (const [side, s] of [
        ['schema.prisma', expected],
        ['migrations', migrated],
      ] as const) {
        t.ok(count(s, 'table') >= models, `${side}: a table for every model`)
        t.ok(count(s, 'column') > count(s, 'table'), `${side}: columns were read`)
        t.ok(count(s, 'primary key') > 0, `${side}: primary keys were read`)
        t.ok(count(s, 'index') > count(s, 'primary key'), `${side}: indexes were read`)
        t.equal(count(s, 'enum'), enums, `${side}: a type for every enum`)
      }
    })

    await t.test('the migrations run in a schema of their own build what the migrator builds', async (t) => {
      t.same(await snapshotOf(db, MIGRATIONS), migrated)
    })

    // Proof that the comparison can fail: edited copies of schema.prisma (never the file itself).
    await t.test('drift on the schema.prisma side is caught', async (t) => {
      const probe = (name: string, edit: () => string | undefined, want: RegExp) => {
        const text = edit()
        return t.test(name, { skip: text === undefined && 'nothing in schema.prisma to edit' }, async (t) => {
          t.not(text, SCHEMA, 'the copy of schema.prisma was changed')
          const found = drift(await snapshotOf(db, [await engine.ddl(text!)]), migrated)
          t.ok(
            found.some((line) => want.test(line)),
            `the drift is reported (${want})`,
            { found },
          )
        })
      }
      await probe('an extra field', () => intoFirst(SCHEMA, 'model', '  driftProbe String?'), /^column \S+\."driftProbe": only in schema\.prisma: text$/)
      await probe(
        'an extra @@index',
        () => {
          const field = /^model\s+\w+\s*\{[^}]*?^\s+(\w+)\s+(?:String|Int|BigInt|Boolean|DateTime|Decimal|Float)\b/m.exec(SCHEMA)?.[1]
          return field && intoFirst(SCHEMA, 'model', `  @@index([${field}], map: "drift_probe_idx")`, 'end')
        },
        /^index \S+\.drift_probe_idx: only in schema\.prisma: CREATE INDEX drift_probe_idx ON /,
      )
      await probe(
        'a changed @default',
        () => {
          const changed = SCHEMA.replace(/@default\((?:(\d+)|(true|false)|"([^"]*)")\)/, (_, n, b, s) =>
            n !== undefined ? `@default(${Number(n) + 1})` : b !== undefined ? `@default(${b !== 'true'})` : `@default("${s}_drift")`,
          )
          return changed === SCHEMA ? undefined : changed
        },
        /^column \S+: schema\.prisma: .* DEFAULT .* \| migrations: /,
      )
      await probe(
        'an extra enum value',
        () => (/^enum\s/m.test(SCHEMA) ? intoFirst(SCHEMA, 'enum', '  drift_probe') : undefined),
        /^enum \S+: schema\.prisma: 'drift_probe', /,
      )
      await probe(
        'a changed onDelete',
        () => {
          const changed = /onDelete:\s*\w+/.test(SCHEMA)
            ? SCHEMA.replace(/onDelete:\s*(\w+)/, (_, a: string) => `onDelete: ${a === 'NoAction' ? 'Cascade' : 'NoAction'}`)
            : SCHEMA.replace('@relation(', '@relation(onDelete: NoAction, ')
          return changed === SCHEMA ? undefined : changed
        },
        /^foreign key \S+: schema\.prisma: FOREIGN KEY .* \| migrations: FOREIGN KEY /,
      )
    })

    // And the other way round: edited copies of the migration scripts (never the files themselves).
    await t.test('drift on the migrations side is caught', async (t) => {
      const probe = (name: string, edit: () => string[] | undefined, want: RegExp) => {
        const scripts = edit()
        return t.test(name, { skip: scripts === undefined && 'nothing in the migrations to edit' }, async (t) => {
          const found = drift(expected, await snapshotOf(db, scripts!))
          t.ok(
            found.some((line) => want.test(line)),
            `the drift is reported (${want})`,
            { found },
          )
        })
      }
      /** The migrations, with the last statement that `pick` accepts removed. */
      const withoutLast = (pick: (statement: string) => boolean) => {
        const at = MIGRATIONS.findLastIndex((sql) => statements(sql).some(pick))
        if (at < 0) return undefined
        const parts = statements(MIGRATIONS[at]!)
        parts.splice(parts.findLastIndex(pick), 1)
        return MIGRATIONS.with(at, parts.join('\n'))
      }
      await probe('the last CREATE INDEX removed', () => withoutLast((s) => /^\s*CREATE (UNIQUE )?INDEX/m.test(s)), /^index \S+: only in schema\.prisma: /)
      await probe('the last statement removed', () => withoutLast((s) => /\S/.test(s.replace(/^\s*--.*$/gm, ''))), /: only in schema\.prisma: /)
      const table = Object.keys(migrated)
        .find((k) => k.startsWith('table '))
        ?.slice('table '.length)
      await probe(
        'an extra column',
        () => (table ? [...MIGRATIONS, `ALTER TABLE ${table} ADD COLUMN drift_probe integer`] : undefined),
        /^column \S+\.drift_probe: only in migrations: integer$/,
      )
    })

    await t.test('the probes left the migrated database as it was', async (t) => {
      t.same(await readSnapshot(db), migrated)
    })
  })
}
