// What tests that start real processes share: the command that runs the server, a free
// port, and an environment stripped of Tessera's and tap's variables.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EnvSchema } from '../../src/config/index.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * What runs: dist/server.js, the very file `npm start` runs, when the build is newer than
 * every source file (as after `npm ci`, which builds); otherwise src/server.ts through tsx.
 * A build older than src/ is never used: it would test yesterday's code and pass for the
 * wrong reason. Paths are absolute so that the server's working directory can be a temp one.
 */
export function serverCommand(): { args: string[]; what: string } {
  const built = join(ROOT, 'dist', 'server.js')
  const src = join(ROOT, 'src')
  const newestSource = Math.max(
    ...readdirSync(src, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => statSync(join(e.parentPath, e.name)).mtimeMs),
  )
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource) return { args: [built], what: 'dist/server.js (an up-to-date build)' }
  return { args: ['--import', import.meta.resolve('tsx'), join(src, 'server.ts')], what: 'src/server.ts through tsx (dist/ is missing or older than src/)' }
}

/** A port free on 127.0.0.1 right now (the OS picks it; it is released for the caller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/** The environment a user's shell would give: none of Tessera's variables, none of tap's. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of [...Object.keys(EnvSchema.properties), 'NODE_OPTIONS', 'TESSERA_TEST_PG_URL']) delete env[name]
  for (const name of Object.keys(env)) if (/^_?TAP/.test(name)) delete env[name]
  return env
}
