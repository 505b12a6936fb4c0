// A real browser for the hosted pages: Debian's `chromium` (apt-get install chromium; `.ci/run`
// installs it) driven by playwright-core, which downloads no browser of its own. Headless, one
// per test file, launched as a browser server so that its PID is known: closed at teardown, and
// its process group killed by that PID if it is still running then. Where no Chromium binary
// exists the test skips with CHROMIUM_MISSING; on this project's machines it must run.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { within } from './wait.js'

export const CHROMIUM_MISSING = 'Chromium not found: apt-get install chromium'

interface Teardown {
  teardown(fn: () => unknown): void
}

const executable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The Chromium binary: CHROMIUM_PATH, else `chromium` on the PATH, else /usr/bin/chromium; undefined if none runs. */
export function findChromium(): string | undefined {
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'chromium'))
  return [process.env.CHROMIUM_PATH, ...onPath, '/usr/bin/chromium'].find((file): file is string => !!file && executable(file))
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Headless Chromium at `executablePath`; closed (and killed by PID if need be) at teardown. */
export async function launchChromium(t: Teardown, executablePath: string): Promise<Browser> {
  const server = await chromium.launchServer({
    executablePath,
    headless: true,
    // As root there is no sandbox; /dev/shm may be small; there is no GPU.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    timeout: 30_000,
  })
  const pid = server.process().pid
  let browser: Browser | undefined
  t.teardown(async () => {
    if (browser) await within(browser.close(), 10_000)
    await within(server.close(), 10_000)
    // Playwright starts it as a process group leader: its renderers and helpers go with it.
    if (pid !== undefined && alive(pid)) {
      try {
        process.kill(-pid, 'SIGKILL')
      } catch {
        process.kill(pid, 'SIGKILL')
      }
    }
  })
  browser = await chromium.connect(server.wsEndpoint(), { timeout: 30_000 })
  return browser
}
