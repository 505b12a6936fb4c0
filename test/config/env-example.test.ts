// .env.example documents every variable EnvSchema reads, with the schema's own default.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { EnvSchema } from '../../src/config/index.js'

const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
// `VAR=value` or `# VAR=value`: the form a reader copies.
const listed = new Map([...text.matchAll(/^#? *([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]))
const properties = EnvSchema.properties as Record<string, { default?: string }>

t.test('every variable is listed, with its default', async (t) => {
  for (const [name, schema] of Object.entries(properties)) {
    t.ok(listed.has(name), `${name} is in .env.example`)
    if (schema.default !== undefined) t.equal(listed.get(name), schema.default, `${name} shows its default`)
  }
})

t.test('nothing is listed that Tessera does not read', async (t) => {
  t.same(
    [...listed.keys()].filter((name) => !(name in properties)),
    [],
  )
})

t.test('each variable has a comment just above it', async (t) => {
  const lines = text.split('\n')
  for (const name of Object.keys(properties)) {
    const at = lines.findIndex((l) => new RegExp(`^#? *${name}=`).test(l))
    t.match(lines[at - 1], /^# \S/, `${name} is explained`)
  }
})
