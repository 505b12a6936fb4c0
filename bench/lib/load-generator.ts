// The load generator (bench/load.ts) on its own core, spoken to over IPC: one task at a time, answered with its figures.
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { LOAD_CORE, ROOT } from './context.js'
import { exited, spawnPinned, stop } from './proc.js'
import type { BodiesResult, LoadResult, LoadSpec, RefreshResult, Reply, StormResult, StormSpec, Task } from './protocol.js'
import { track } from './tracked.js'

export class LoadGenerator {
  #child: ChildProcess
  #next = 1
  #pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>()

  constructor() {
    this.#child = track(
      spawnPinned(LOAD_CORE, ['--import', 'tsx', join(ROOT, 'bench', 'load.ts')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    )
    this.#child.on('message', (reply: Reply) => {
      const p = this.#pending.get(reply.id)
      this.#pending.delete(reply.id)
      if (reply.ok) p?.resolve(reply.result)
      else p?.reject(new Error(`load generator: ${reply.error}`))
    })
    this.#child.once('exit', (code, signal) => {
      for (const p of this.#pending.values()) p.reject(new Error(`load generator exited (${code ?? signal})`))
      this.#pending.clear()
    })
  }

  get pid(): number {
    return this.#child.pid!
  }

  #send<T>(task: Task): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(task.id, { resolve: resolve as (r: unknown) => void, reject })
      this.#child.send(task)
    })
  }

  load(spec: LoadSpec): Promise<LoadResult> {
    return this.#send({ id: this.#next++, kind: 'load', spec })
  }

  refresh(spec: Omit<LoadSpec, 'body'>, pool: string[]): Promise<RefreshResult> {
    return this.#send({ id: this.#next++, kind: 'refresh', spec: { ...spec, pool } })
  }

  /** Each body sent once (single-use credentials such as authorization codes). */
  bodies(spec: Omit<LoadSpec, 'body'>, bodies: string[]): Promise<BodiesResult> {
    return this.#send({ id: this.#next++, kind: 'bodies', spec: { ...spec, bodies } })
  }

  storm(spec: StormSpec): Promise<StormResult> {
    return this.#send({ id: this.#next++, kind: 'storm', spec })
  }

  async close(): Promise<void> {
    if (this.#child.connected) this.#child.disconnect()
    await Promise.race([exited(this.#child), new Promise((r) => setTimeout(r, 5_000))])
    await stop(this.#child)
  }
}
