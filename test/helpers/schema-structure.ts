// The database structure two ways, in one shape, so the drift test can compare them:
// - expectedStructure(): what `prisma migrate` would build from a schema.prisma text, derived at
//   run time from the DMMF of Prisma's own schema parser (@prisma/prisma-schema-wasm, pinned to the
//   engines version of the installed `prisma`), following Prisma's PostgreSQL conventions (default
//   constraint names, types, defaults, referential actions, implicit many-to-many tables);
// - actualStructure(): what a database really holds, read from pg_catalog.
// These rules were checked against the DDL that `prisma migrate diff --from-empty` (Prisma 6.19's
// WebAssembly engine) printed for a schema using every feature handled here.
// Not compared: foreign-key constraint names (the DMMF omits `@relation(map:)`, so foreign keys
// are keyed by columns and target instead), CHECK constraints, sequences, operator classes,
// partial indexes, views, extensions, `relationMode = "prisma"` (foreign keys are expected).
import { Buffer } from 'node:buffer'
import wasm from '@prisma/prisma-schema-wasm'
import type { Session } from '../../src/stores/database.js'

export interface Column {
  /** format_type() spelling, `enum <name>` for enums; `[]` suffix for lists. */
  type: string
  nullable: boolean
  /** Normalised default expression, or null. */
  default: string | null
}

export interface Index {
  unique: boolean
  method: string
  /** Column names, ` DESC` appended for descending ones. */
  columns: string[]
}

export interface Table {
  columns: Record<string, Column>
  primaryKey: { name: string; columns: string[] } | null
  /** By index name (Prisma's unique constraints are unique indexes). */
  indexes: Record<string, Index>
  /** By `columns -> table(columns)`. */
  foreignKeys: Record<string, { onDelete: string; onUpdate: string }>
}

export interface Structure {
  tables: Record<string, Table>
  /** Enum type → its values, sorted (Prisma compares them as a set). */
  enums: Record<string, string[]>
}

/** The expected default of `@default(dbgenerated())`: any default the database has. */
export const ANY_DEFAULT = '<any database default>'

// ---------------------------------------------------------------------------------------------
// Expected: from schema.prisma through the DMMF

interface DmmfField {
  name: string
  dbName?: string | null
  kind: 'scalar' | 'enum' | 'object' | 'unsupported'
  type: string
  isList: boolean
  isRequired: boolean
  nativeType?: [string, string[]] | null
  default?: unknown
  relationName?: string
  relationFromFields?: string[]
  relationToFields?: string[]
  relationOnDelete?: string
  relationOnUpdate?: string
}

interface DmmfModel {
  name: string
  dbName: string | null
  schema: string | null
  fields: DmmfField[]
}

interface DmmfIndex {
  model: string
  type: 'id' | 'unique' | 'normal' | 'fulltext'
  dbName?: string
  algorithm?: string
  fields: { name: string; sortOrder?: 'asc' | 'desc'; operatorClass?: string }[]
}

interface DmmfEnum {
  name: string
  dbName: string | null
  schema?: string | null
  values: { name: string; dbName: string | null }[]
}

interface Datamodel {
  models: DmmfModel[]
  enums: DmmfEnum[]
  indexes: DmmfIndex[]
}

export class SchemaStructureError extends Error {
  override name = 'SchemaStructureError'
}

/** The datamodel part of the DMMF, from Prisma's own parser. */
export function readDatamodel(schemaText: string): Datamodel {
  let out: string
  try {
    out = wasm.get_dmmf(JSON.stringify({ prismaSchema: [['schema.prisma', schemaText]] }))
  } catch (err) {
    let message = (err as Error).message
    try {
      message = (JSON.parse(message) as { message: string }).message
    } catch {}
    // eslint-disable-next-line no-control-regex
    throw new SchemaStructureError(`schema.prisma does not parse: ${message.replace(/\x1b\[[0-9;]*m/g, '')}`)
  }
  return (JSON.parse(out) as { datamodel: Datamodel }).datamodel
}

const qualify = (schema: string | null | undefined, name: string) => (schema && schema !== 'public' ? `${schema}.${name}` : name)

/** Prisma's PostgreSQL types for scalars without @db.*, in format_type() spelling. */
const SCALAR_TYPES: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
}

/** @db.* native types without arguments, in format_type() spelling. */
const PLAIN_NATIVE_TYPES: Record<string, string> = {
  Text: 'text',
  Uuid: 'uuid',
  Xml: 'xml',
  Inet: 'inet',
  Citext: 'citext',
  Boolean: 'boolean',
  Integer: 'integer',
  SmallInt: 'smallint',
  BigInt: 'bigint',
  Oid: 'oid',
  Real: 'real',
  DoublePrecision: 'double precision',
  Money: 'money',
  Date: 'date',
  Json: 'json',
  JsonB: 'jsonb',
  ByteA: 'bytea',
}

/** A @db.* native type, in format_type() spelling. */
function nativeType(name: string, args: string[]): string {
  const plain = PLAIN_NATIVE_TYPES[name]
  if (plain) return plain
  const [a, b] = args
  const sized = (base: string) => (a === undefined ? base : `${base}(${a})`)
  switch (name) {
    case 'VarChar':
      return sized('character varying')
    case 'VarBit':
      return sized('bit varying')
    case 'Char':
      return `character(${a ?? 1})`
    case 'Bit':
      return `bit(${a ?? 1})`
    case 'Decimal':
      return a === undefined ? 'numeric' : `numeric(${a},${b ?? 0})`
    case 'Timestamp':
      return `${sized('timestamp')} without time zone`
    case 'Timestamptz':
      return `${sized('timestamp')} with time zone`
    case 'Time':
      return `${sized('time')} without time zone`
    case 'Timetz':
      return `${sized('time')} with time zone`
    default:
      throw new SchemaStructureError(`@db.${name} is not handled by test/helpers/schema-structure.ts: add its format_type() spelling`)
  }
}

const ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
}

/** Prisma's default constraint names for PostgreSQL (63-byte identifiers), from psl's ConstraintNames. */
const LIMIT = 63
export function primaryKeyName(table: string): string {
  return `${table.length >= LIMIT - 5 ? table.slice(0, LIMIT - 5) : table}_pkey`
}
export function indexName(table: string, columns: string[], suffix: '_key' | '_idx'): string {
  let out = `${table}_${columns.join('_')}`
  if (out.length >= LIMIT - suffix.length) out = out.slice(0, LIMIT - suffix.length)
  return out + suffix
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`

/** The default as Prisma's DDL would write it, normalised like the database's. */
function expectedDefault(f: DmmfField, type: string, enums: Map<string, DmmfEnum>): string | null {
  if (f.default === undefined) return null
  const d = f.default
  if (d !== null && typeof d === 'object' && !Array.isArray(d)) {
    const { name, args } = d as { name: string; args: unknown[] }
    if (name === 'autoincrement') return 'autoincrement()'
    if (name === 'now') return 'now()'
    if (name === 'dbgenerated') return args.length ? normaliseDefault(String(args[0]), type) : ANY_DEFAULT
    return null // uuid(), cuid(), nanoid(), ulid(): generated by Prisma Client, not the database
  }
  const literal = (v: unknown): string => {
    if (f.kind === 'enum') {
      const value = enums.get(f.type)?.values.find((e) => e.name === v)
      return sqlString(value?.dbName ?? String(v))
    }
    switch (f.type) {
      case 'Boolean':
      case 'Int':
      case 'BigInt':
      case 'Float':
      case 'Decimal':
        return String(v)
      case 'Bytes':
        return sqlString(`\\x${Buffer.from(String(v), 'base64').toString('hex')}`)
      default:
        return sqlString(String(v))
    }
  }
  const sql = Array.isArray(d) ? `ARRAY[${d.map(literal).join(', ')}]` : literal(d)
  return normaliseDefault(sql, type)
}

/** Derives the structure `prisma migrate` would create from schema.prisma's text. */
export function expectedStructure(schemaText: string): Structure {
  const dm = readDatamodel(schemaText)
  const enums = new Map(dm.enums.map((e) => [e.name, e]))
  const models = new Map(dm.models.map((m) => [m.name, m]))
  const tableOf = (m: DmmfModel) => qualify(m.schema, m.dbName ?? m.name)
  const enumName = (e: DmmfEnum) => qualify(e.schema, e.dbName ?? e.name)
  const fieldOf = (m: DmmfModel, name: string) => {
    const f = m.fields.find((x) => x.name === name)
    if (!f) throw new SchemaStructureError(`${m.name}.${name} is not in the DMMF`)
    return f
  }
  const columnOf = (m: DmmfModel, name: string) => {
    const f = fieldOf(m, name)
    return f.dbName ?? f.name
  }
  const typeOf = (f: DmmfField) => {
    let base: string
    if (f.kind === 'enum') base = `enum ${enumName(enums.get(f.type)!)}`
    else if (f.nativeType) base = nativeType(f.nativeType[0], f.nativeType[1])
    else if (SCALAR_TYPES[f.type]) base = SCALAR_TYPES[f.type]!
    else throw new SchemaStructureError(`${f.name}: type ${f.type} (${f.kind}) is not handled by test/helpers/schema-structure.ts`)
    return f.isList ? `${base}[]` : base
  }

  const s: Structure = { tables: {}, enums: {} }
  for (const e of dm.enums) s.enums[enumName(e)] = e.values.map((v) => v.dbName ?? v.name).sort()

  for (const m of dm.models) {
    const table: Table = { columns: {}, primaryKey: null, indexes: {}, foreignKeys: {} }
    s.tables[tableOf(m)] = table
    for (const f of m.fields) {
      if (f.kind === 'object') continue
      const type = typeOf(f)
      // Prisma never writes NOT NULL on scalar lists.
      table.columns[f.dbName ?? f.name] = { type, nullable: f.isList || !f.isRequired, default: expectedDefault(f, type, enums) }
    }
    for (const f of m.fields) {
      if (f.kind !== 'object' || !f.relationFromFields?.length) continue
      const target = models.get(f.type)!
      const from = f.relationFromFields.map((n) => columnOf(m, n))
      const to = (f.relationToFields ?? []).map((n) => columnOf(target, n))
      // psl: Restrict when any referencing scalar is required, else SetNull; onUpdate Cascade.
      const required = f.relationFromFields.some((n) => fieldOf(m, n).isRequired)
      table.foreignKeys[`(${from.join(', ')}) -> ${tableOf(target)}(${to.join(', ')})`] = {
        onDelete: ACTIONS[f.relationOnDelete ?? (required ? 'Restrict' : 'SetNull')]!,
        onUpdate: ACTIONS[f.relationOnUpdate ?? 'Cascade']!,
      }
    }
  }

  for (const ix of dm.indexes) {
    const m = models.get(ix.model)!
    const t = tableOf(m)
    const names = ix.fields.map((f) => columnOf(m, f.name))
    const columns = ix.fields.map((f, i) => (f.sortOrder === 'desc' ? `${names[i]} DESC` : names[i]!))
    const table = s.tables[t]!
    if (ix.type === 'id') table.primaryKey = { name: ix.dbName ?? primaryKeyName(m.dbName ?? m.name), columns }
    else if (ix.type === 'unique') table.indexes[ix.dbName ?? indexName(m.dbName ?? m.name, names, '_key')] = { unique: true, method: 'btree', columns }
    else if (ix.type === 'normal')
      table.indexes[ix.dbName ?? indexName(m.dbName ?? m.name, names, '_idx')] = { unique: false, method: (ix.algorithm ?? 'BTree').toLowerCase(), columns }
    else throw new SchemaStructureError(`@@${ix.type} on ${ix.model} is not handled by test/helpers/schema-structure.ts`)
  }

  // Implicit many-to-many relations: a `_<relation>` table; A is the model whose name sorts first.
  const seen = new Set<string>()
  for (const m of dm.models) {
    for (const f of m.fields) {
      if (f.kind !== 'object' || !f.isList || f.relationFromFields?.length || !f.relationName) continue
      const other = models.get(f.type)!.fields.find((x) => x.relationName === f.relationName && x !== f)
      if (!other?.isList || seen.has(f.relationName)) continue
      seen.add(f.relationName)
      const [a, b] = [m.name, f.type].sort().map((n) => models.get(n)!)
      const name = `_${f.relationName}`
      const table: Table = { columns: {}, primaryKey: { name: `${name}_AB_pkey`, columns: ['A', 'B'] }, indexes: {}, foreignKeys: {} }
      for (const [col, target] of [
        ['A', a!],
        ['B', b!],
      ] as const) {
        const id = dm.indexes.find((i) => i.model === target.name && i.type === 'id')
        if (id?.fields.length !== 1) throw new SchemaStructureError(`implicit many-to-many ${name}: ${target.name} needs a single-field id`)
        const idField = fieldOf(target, id.fields[0]!.name)
        table.columns[col] = { type: typeOf(idField), nullable: false, default: null }
        table.foreignKeys[`(${col}) -> ${tableOf(target)}(${idField.dbName ?? idField.name})`] = { onDelete: 'CASCADE', onUpdate: 'CASCADE' }
      }
      table.indexes[`${name}_B_index`] = { unique: false, method: 'btree', columns: ['B'] }
      s.tables[qualify(m.schema, name)] = table
    }
  }
  return s
}

// ---------------------------------------------------------------------------------------------
// Defaults: both sides go through the same normalisation

// A cast: `::text`, `::"Role"`, `::character varying(20)`, `::timestamp(3) with time zone`, `::integer[]`.
const IDENT = `(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)`
const CAST = new RegExp(
  String.raw`::(?:${IDENT}\.)?(?:double precision|character varying|bit varying|(?:timestamp|time)(?:\s*\(\d+\))?(?:\s+with(?:out)?\s+time\s+zone)?|${IDENT})(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\[\])*`,
  'gi',
)
const STRING_LITERAL = /'(?:[^']|'')*'/g

function stripCasts(sql: string): string {
  let out = ''
  let last = 0
  for (const m of sql.matchAll(STRING_LITERAL)) {
    out += sql.slice(last, m.index).replace(CAST, '') + m[0]
    last = m.index + m[0].length
  }
  return out + sql.slice(last).replace(CAST, '')
}

function canonicalNumber(s: string): string {
  const m = /^([+-]?)0*(\d+?)(?:\.(\d*?)0*)?$/.exec(s.trim())
  if (!m) return String(Number(s))
  const [, sign, int, frac] = m
  const body = frac ? `${int}.${frac}` : int!
  return body === '0' || sign !== '-' ? body : `-${body}`
}

function canonicalTimestamp(s: string): string {
  const m = /^(\d{4}-\d\d-\d\d)(?:[ T](\d\d:\d\d(?::\d\d(?:\.\d+)?)?)\s*(Z|[+-]\d\d(?::?\d\d)?)?)?$/i.exec(s.trim())
  if (!m) return s
  const [, date, time = '00:00:00', zone = 'Z'] = m
  const offset = zone.length === 3 ? `${zone}:00` : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone
  const ms = Date.parse(`${date}T${time}${offset}`)
  return Number.isNaN(ms) ? s : new Date(ms).toISOString()
}

function canonicalJson(s: string): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
          )
        : v
  try {
    return JSON.stringify(sort(JSON.parse(s)))
  } catch {
    return s
  }
}

const NUMERIC = /^(smallint|integer|bigint|real|double precision|numeric|money)\b/

/** Brings a default expression (pg_get_expr's, or Prisma's DDL) to one spelling for its column type. */
export function normaliseDefault(sql: string, type: string): string {
  const s = stripCasts(sql.trim())
  if (/^nextval\(/i.test(s)) return 'autoincrement()'
  if (/^(current_timestamp|now\(\))$/i.test(s)) return 'now()'
  if (/^(true|false)$/i.test(s)) return s.toLowerCase()
  const literal = /^'((?:[^']|'')*)'$/.exec(s)
  const value = literal ? literal[1]!.replace(/''/g, "'") : null
  if (type.endsWith('[]')) return s.replace(/\s+/g, ' ')
  if (NUMERIC.test(type) && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value ?? s)) return canonicalNumber(value ?? s)
  if (value === null) return s
  if (/^(timestamp|date)/.test(type)) return sqlString(canonicalTimestamp(value))
  if (/^jsonb?$/.test(type)) return sqlString(canonicalJson(value))
  if (type === 'bytea') return sqlString(value.toLowerCase())
  return sqlString(value)
}

// ---------------------------------------------------------------------------------------------
// Actual: from the catalog

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`
const ACTION_CODES: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' }

/** The structure a database holds (Prisma's `_prisma_migrations` history table left out). */
export async function actualStructure(db: Pick<Session, 'query'>): Promise<Structure> {
  const s: Structure = { tables: {}, enums: {} }
  const tableRows = await db.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND ${USER_SCHEMAS} AND c.relname <> '_prisma_migrations'
     ORDER BY 1, 2`,
  )
  for (const r of tableRows) s.tables[qualify(r.schema, r.table)] = { columns: {}, primaryKey: null, indexes: {}, foreignKeys: {} }
  const tableOf = (r: { schema: string; table: string }) => s.tables[qualify(r.schema, r.table)]

  const columns = await db.query<{
    schema: string
    table: string
    column: string
    type: string
    enum: string | null
    enum_schema: string | null
    is_array: boolean
    not_null: boolean
    default: string | null
    identity: string
    generated: string
  }>(
    `SELECT n.nspname AS schema, c.relname AS table, a.attname AS column,
            format_type(a.atttypid, a.atttypmod) AS type,
            CASE WHEN t.typtype = 'e' THEN t.typname WHEN et.typtype = 'e' THEN et.typname END AS enum,
            CASE WHEN t.typtype = 'e' THEN tn.nspname WHEN et.typtype = 'e' THEN etn.nspname END AS enum_schema,
            t.typcategory = 'A' AS is_array,
            a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default,
            a.attidentity::text AS identity, a.attgenerated::text AS generated
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
     LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
     LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attnum > 0 AND NOT a.attisdropped
     ORDER BY n.nspname, c.relname, a.attnum`,
  )
  for (const r of columns) {
    const table = tableOf(r)
    if (!table) continue
    const type = r.enum ? `enum ${qualify(r.enum_schema, r.enum)}${r.is_array ? '[]' : ''}` : r.type
    let def: string | null = r.default === null ? null : normaliseDefault(r.default, type)
    if (r.identity) def = `generated ${r.identity === 'a' ? 'always' : 'by default'} as identity`
    if (r.generated) def = `generated always as (${r.default})`
    table.columns[r.column] = { type, nullable: !r.not_null, default: def }
  }

  const indexes = await db.query<{
    schema: string
    table: string
    name: string
    primary: boolean
    unique: boolean
    method: string
    columns: string[]
    predicate: string | null
  }>(
    `SELECT n.nspname AS schema, c.relname AS table, ic.relname AS name, ix.indisprimary AS primary, ix.indisunique AS unique,
            am.amname AS method, pg_get_expr(ix.indpred, ix.indrelid) AS predicate,
            ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) || CASE WHEN (ix.indoption[k - 1] & 1) = 1 THEN ' DESC' ELSE '' END
                  FROM generate_series(1, ix.indnkeyatts) AS k ORDER BY k) AS columns
     FROM pg_index ix
     JOIN pg_class ic ON ic.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = ic.relam`,
  )
  const unquote = (col: string) => col.replace(/^"((?:[^"]|"")+)"/, (_, s: string) => s.replace(/""/g, '"'))
  for (const r of indexes) {
    const table = tableOf(r)
    if (!table) continue
    const cols = r.columns.map(unquote)
    if (r.primary) table.primaryKey = { name: r.name, columns: cols }
    else table.indexes[r.name] = { unique: r.unique, method: r.method, columns: r.predicate ? [...cols, `WHERE ${r.predicate}`] : cols }
  }

  const fks = await db.query<{
    schema: string
    table: string
    columns: string[]
    ref_schema: string
    ref_table: string
    ref_columns: string[]
    del: string
    upd: string
  }>(
    `SELECT n.nspname AS schema, c.relname AS table, rn.nspname AS ref_schema, rc.relname AS ref_table,
            ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
                  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.i)::text[] AS columns,
            ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, i)
                  JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.i)::text[] AS ref_columns,
            con.confdeltype::text AS del, con.confupdtype::text AS upd
     FROM pg_constraint con
     JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
     WHERE con.contype = 'f'`,
  )
  for (const r of fks) {
    const table = tableOf(r)
    if (!table) continue
    table.foreignKeys[`(${r.columns.join(', ')}) -> ${qualify(r.ref_schema, r.ref_table)}(${r.ref_columns.join(', ')})`] = {
      onDelete: ACTION_CODES[r.del] ?? r.del,
      onUpdate: ACTION_CODES[r.upd] ?? r.upd,
    }
  }

  const enums = await db.query<{ schema: string; name: string; values: string[] }>(
    `SELECT n.nspname AS schema, t.typname AS name, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS values
     FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype = 'e' AND ${USER_SCHEMAS}`,
  )
  for (const r of enums) s.enums[qualify(r.schema, r.name)] = [...r.values].sort()
  return s
}

// ---------------------------------------------------------------------------------------------
// Comparison

const show = (v: unknown) => JSON.stringify(v)
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * Every difference, one line each, worded from schema.prisma's side: what it has that the
 * migrations do not build, what the migrations build that it lacks, and what differs.
 */
export function diffStructures(expected: Structure, actual: Structure): string[] {
  const out: string[] = []
  const walk = (exp: unknown, act: unknown, path: string) => {
    if (isObject(exp) && isObject(act)) {
      for (const k of new Set([...Object.keys(exp), ...Object.keys(act)])) {
        const p = path ? `${path}.${k}` : k
        if (!(k in act)) out.push(`${p}: in schema.prisma, missing from the migrations: ${show(exp[k])}`)
        else if (!(k in exp)) out.push(`${p}: built by the migrations, not in schema.prisma: ${show(act[k])}`)
        else walk(exp[k], act[k], p)
      }
      return
    }
    if (exp === ANY_DEFAULT && act !== null) return
    if (show(exp) !== show(act)) out.push(`${path}: schema.prisma says ${show(exp)}, the migrations build ${show(act)}`)
  }
  walk(expected.tables, actual.tables, 'tables')
  walk(expected.enums, actual.enums, 'enums')
  return out
}
