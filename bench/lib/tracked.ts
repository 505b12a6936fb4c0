// The processes this run starts, so that every exit path stops them (by pid) and nothing else.
import type { ChildProcess } from 'node:child_process'
import { stopCluster } from './postgres.js'
import { stop } from './proc.js'

const children = new Set<ChildProcess>()

export function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

/** Stops every tracked child that is still running, then the Postgres cluster. */
export async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 'SIGTERM', 5_000)))
  stopCluster()
}
