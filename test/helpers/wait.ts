// Waiting for something a test cannot await directly (a child process, a background loop, a
// server across HTTP): always for a condition, always bounded, never a fixed sleep.
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `fn` until it returns something other than `undefined` or `false`, and returns that
 * (`true` for a plain condition). Throws after `ms`, naming what it waited for; what `fn`
 * throws ends the wait at once.
 */
export async function until<T>(what: string, ms: number, fn: () => T | Promise<T>, every = 50): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined && v !== false) return v as Exclude<T, undefined | false>
    if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`)
    await sleep(every)
  }
}

/** `p`, or `undefined` once `ms` have passed (the timer does not outlive the race). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Waits until the wall clock reaches `at` (ms since the epoch). Only for behaviour that is
 * itself about real time between real processes; say why at the call site.
 */
export async function untilTime(at: number): Promise<void> {
  const left = at - Date.now()
  if (left > 0) await sleep(left)
}
