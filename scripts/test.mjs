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
const child = spawn(process.execPath, ['node_modules/tap/dist/esm/run.mjs', ...process.argv.slice(2)], { stdio: ['inherit', 'pipe', 'inherit'], env })
// tap's output passes through untouched; its final count (`# { total: N, pass: P, fail: F }`)
// is repeated at the end as a plain `N passed, N failed` line that any CI reads.
let totals
let pending = ''
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  const lines = (pending + chunk.toString()).split('\n')
  pending = lines.pop() ?? ''
  for (const line of lines) {
    const m = /^# \{ total: (\d+)(.*)\}$/.exec(line.trim())
    if (m)
      totals = {
        total: Number(m[1]),
        pass: Number(/pass: (\d+)/.exec(m[2])?.[1] ?? 0),
        fail: Number(/fail: (\d+)/.exec(m[2])?.[1] ?? 0),
        skip: Number(/skip: (\d+)/.exec(m[2])?.[1] ?? 0),
      }
  }
})
const stop = () => cluster?.stop()
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('close', (code, signal) => {
  stop()
  if (totals) console.log(`tap: ${totals.pass} passed, ${totals.fail} failed${totals.skip ? `, ${totals.skip} skipped` : ''}`)
  process.exit(code ?? (signal ? 1 : 0))
})
