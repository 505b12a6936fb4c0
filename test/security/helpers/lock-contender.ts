// A process that contends for the embedded database's directory lock when told, for
// test/security/pglite-lock.test.ts. One command a line on stdin:
//   lock <round> <dir> <at>  wait (spinning) until the clock reads <at>, then try to take the lock;
//                            prints `round <round> won` or `round <round> lost <message>`
//   release <round>          releases the lock it holds, if any; prints `round <round> released`
// Every contender spins to the same millisecond, so that they all try at once.
import { createInterface } from 'node:readline'
import { lockDirectory } from '../../../src/stores/database.js'

let release: (() => void) | undefined
console.log('ready')
for await (const line of createInterface({ input: process.stdin })) {
  const [command, round, dir, at] = line.split(' ')
  if (command === 'lock') {
    while (Date.now() < Number(at)) {
      // spin
    }
    try {
      release = lockDirectory(dir!)
      console.log(`round ${round} won`)
    } catch (err) {
      console.log(`round ${round} lost ${(err as Error).message}`)
    }
  } else if (command === 'release') {
    release?.()
    release = undefined
    console.log(`round ${round} released`)
  }
}
