// Generates the Prisma client offline. `prisma generate` never runs the schema engine, but
// Prisma's CLI insists on finding one and would download it; pointing it at any existing
// file (this Node binary) keeps a fresh clone's `npm ci` free of network access.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const cli = require.resolve('prisma/build/index.js')
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
  CHECKPOINT_DISABLE: '1',
}
const run = spawnSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env })
process.exit(run.status ?? 1)
