// `npm test`: runs the whole tap suite against both database legs. The embedded PGlite leg
// needs nothing; for the Postgres leg this starts a throwaway cluster (or uses DATABASE_URL's
// server when given), hands its URL to the tests, and stops it afterwards.
import { spawn } from 'node:child_process'
import { startPostgres } from './postgres.mjs'

const given = process.env.DATABASE_URL
let cluster
let url = given
if (!given) {
  cluster = await startPostgres()
  url = cluster.url
  console.log(`postgres leg: started a PostgreSQL cluster on 127.0.0.1:${cluster.port}`)
} else {
  console.log('postgres leg: using the server in DATABASE_URL')
}
console.log('pglite leg: embedded PGlite, in memory')

const env = { ...process.env, TESSERA_TEST_PG_URL: url }
delete env.DATABASE_URL
const child = spawn(process.execPath, ['node_modules/tap/dist/esm/run.mjs', ...process.argv.slice(2)], { stdio: 'inherit', env })
const stop = () => cluster?.stop()
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => {
  stop()
  process.exit(code ?? (signal ? 1 : 0))
})
