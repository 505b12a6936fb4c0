// The DDL Prisma itself writes for a schema.prisma, from an empty database: Prisma's own schema
// engine (@prisma/schema-engine-wasm, the WebAssembly build `prisma migrate diff` runs), offline.
// No Prisma convention is re-implemented here, so a Prisma upgrade cannot make this helper wrong;
// the drift test checks the engine is the installed Prisma's (schemaEngineVersion below).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import type * as Engine from '@prisma/schema-engine-wasm/schema_engine_bg'
import pg from 'pg'
import { PrismaPGlite } from 'pglite-prisma-adapter'

const require = createRequire(import.meta.url)
const ENGINE_JS = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')

// Node's global, which this project's type libraries (no DOM) do not declare.
const { WebAssembly } = globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: Record<string, unknown> } }> }
}

// The package's index imports the .wasm as an ES module, which Node 20 cannot: instantiate it by hand.
const engine: Promise<typeof Engine> = (async () => {
  const bg: typeof Engine = await import(pathToFileURL(ENGINE_JS).href)
  const { instance } = await WebAssembly.instantiate(readFileSync(join(dirname(ENGINE_JS), 'schema_engine_bg.wasm')), { './schema_engine_bg.js': bg })
  bg.__wbg_set_wasm(instance.exports)
  ;(instance.exports.__wbindgen_start as () => void)()
  // Where the engine reports a Rust panic (Prisma's CLI installs the same), so it is not lost.
  ;(globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown }).PRISMA_WASM_PANIC_REGISTRY ??= {
    set_message: (message: string) => console.error(`schema engine panic: ${message}`),
  }
  return bg
})()

/** The prisma-engines commit the schema engine was built from. */
export async function schemaEngineVersion(): Promise<string> {
  return (await engine).version()
}

/** The prisma-engines commit of the installed `prisma` (prisma → @prisma/engines → @prisma/engines-version). */
export function installedEnginesVersion(): string {
  const fromPrisma = createRequire(require.resolve('prisma/package.json'))
  const fromEngines = createRequire(fromPrisma.resolve('@prisma/engines/package.json'))
  return (fromEngines('@prisma/engines-version') as { enginesVersion: string }).enginesVersion
}

export interface SchemaEngine {
  /** The script `prisma migrate diff --from-empty --to-schema <schema> --script` prints. */
  ddl(schema: string): Promise<string>
}

/**
 * A schema engine; closed at teardown. The engine insists on a driver adapter and runs one query
 * through it when it starts (whether the default schema exists, and the server's version); the
 * DDL does not depend on which server answers (PGlite's and PostgreSQL 15's scripts are the same
 * bytes). So the test cluster of `npm test` answers when there is one: a second PGlite for the
 * embedded leg would cost 1.5 to 4 s.
 */
export async function openSchemaEngine(t: { teardown(fn: () => unknown): void }): Promise<SchemaEngine> {
  const bg = await engine
  // Resolved where @prisma/adapter-pg finds it: the version of the adapters (pglite-prisma-adapter has its own copy).
  const { bindMigrationAwareSqlAdapterFactory } = createRequire(require.resolve('@prisma/adapter-pg'))(
    '@prisma/driver-adapter-utils',
  ) as typeof import('@prisma/driver-adapter-utils')
  let adapter: PrismaPg | PrismaPGlite
  if (process.env.TESSERA_TEST_PG_URL) {
    const pool = new pg.Pool({ connectionString: process.env.TESSERA_TEST_PG_URL, max: 1 })
    t.teardown(() => pool.end())
    adapter = new PrismaPg(pool)
  } else {
    const db = await PGlite.create()
    t.teardown(() => db.close())
    adapter = new PrismaPGlite(db)
  }
  const se = await bg.SchemaEngine.new({ datamodels: undefined }, () => {}, bindMigrationAwareSqlAdapterFactory(adapter))
  t.teardown(() => se.free())
  return {
    async ddl(schema) {
      const result = await se.diff({
        from: { tag: 'empty' },
        to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schema }] },
        script: true,
        exitCode: null,
        filters: { externalTables: [], externalEnums: [] },
      })
      if (result.stdout === null) throw new Error('the schema engine printed no script')
      return result.stdout
    },
  }
}
