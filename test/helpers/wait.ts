// Waiting for something a test cannot await directly (a child process, a background loop).
import { setTimeout as sleep } from 'node:timers/promises'

/** Polls `fn` until it holds; throws after `ms`, naming what it waited for. */
export async function until(what: string, ms: number, fn: () => boolean | Promise<boolean>, every = 50): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await fn()) return
    await sleep(every)
  }
  throw new Error(`timed out after ${ms} ms waiting until ${what}`)
}
