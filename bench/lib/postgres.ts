// The run's own Postgres cluster (scripts/postgres.mjs), pinned to the load generator's core, off Tessera's.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { LOAD_CORE } from './context.js'
import { log } from './log.js'
import { pinTree } from './proc.js'

interface Cluster {
  url: string
  port: number
  dir: string
  stop(): void
}

let cluster: Cluster | undefined

export async function startCluster(): Promise<Cluster> {
  const { startPostgres } = (await import(new URL('../../scripts/postgres.mjs', import.meta.url).href)) as {
    startPostgres: (o?: { settings?: Record<string, string | number> }) => Promise<Cluster>
  }
  cluster = await startPostgres({ settings: { max_wal_size: '4GB', checkpoint_timeout: '30min' } })
  const postmaster = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  pinTree(postmaster, LOAD_CORE)
  log(`postgres on 127.0.0.1:${cluster.port}, pid ${postmaster}, pinned to core ${LOAD_CORE} with the load generator, off Tessera's core`)
  return cluster
}

export function stopCluster(): void {
  try {
    cluster?.stop()
  } catch (err) {
    log(`stopping Postgres: ${(err as Error).message}`)
  }
  cluster = undefined
}
