// README's configuration table is the schema's (scripts/config-table.ts): a variable added,
// removed, re-defaulted or re-described in src/config/index.ts fails here until
// `npm run docs:config` writes the table again. .env.example is held to the same schema by
// env-example.test.ts.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { configTable, END, START } from '../../scripts/config-table.js'
import { EnvSchema } from '../../src/config/index.js'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

t.test("README's table is the one the schema makes", async (t) => {
  const from = readme.indexOf(START)
  const to = readme.indexOf(END)
  t.ok(from >= 0 && to > from, 'README has the generated block')
  t.equal(readme.slice(from + START.length, to).trim(), configTable(), 'and it is up to date (npm run docs:config)')
})

t.test('every variable has a row, and only those', async (t) => {
  const rows = [...configTable().matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1])
  t.same(rows, Object.keys(EnvSchema.properties))
  for (const [name, schema] of Object.entries(EnvSchema.properties as Record<string, { description?: string }>)) {
    t.ok(schema.description && schema.description.length > 5, `${name} says what it is`)
  }
})
