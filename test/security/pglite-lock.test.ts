// Security review, finding 2: the embedded database's lock admits exactly one process, even
// when many start at the same instant, whether the directory was free or held by a process
// that has since died; a lock file that is empty or cut short is held, not free; and a process
// releases only a lock that is still its own.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { DatabaseUnavailable, lockDirectory, startTime } from '../../src/stores/database.js'
import { type Child, scratch, spawnNode, tsx } from '../helpers/process.js'

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A process that does nothing for a while: another program holding a pid. Killed by PID at teardown. */
const bystander = (t: Teardown): Child => spawnNode(t, ['-e', 'setTimeout(() => {}, 120_000)'], { name: 'bystander', cwd: scratch(t) })

/** The pid and start time of a process that has exited. */
async function deadProcess(t: Teardown): Promise<string> {
  const gone = bystander(t)
  const started = startTime(gone.pid)
  gone.signal('SIGKILL')
  await gone.exit(5000)
  return `${gone.pid} ${started ?? ''}`.trim()
}

const lockFile = (dir: string) => join(dir, 'tessera.pid')

t.test('release removes only a lock that is still its own', async (t) => {
  const dir = scratch(t, 'tessera-lock-')
  const release = lockDirectory(dir)
  t.equal(readFileSync(lockFile(dir), 'utf8'), `${process.pid} ${startTime(process.pid)}`, 'the lock names this process')
  // Someone removed it by hand and another process took the directory since.
  const other = bystander(t)
  const theirs = `${other.pid} ${startTime(other.pid)}`
  writeFileSync(lockFile(dir), theirs)
  release()
  t.equal(readFileSync(lockFile(dir), 'utf8'), theirs, "the other process's lock is left alone")
})

t.test('an empty or half-written lock file is held, not free', async (t) => {
  for (const [what, text] of [
    ['an empty file', ''],
    ['a file cut short before the pid ended', '12a'],
    ['garbage', 'not a pid'],
  ] as const) {
    const dir = scratch(t, 'tessera-lock-')
    writeFileSync(lockFile(dir), text)
    t.throws(() => lockDirectory(dir), DatabaseUnavailable, `${what}: refused`)
    t.equal(readFileSync(lockFile(dir), 'utf8'), text, `${what}: left as it was`)
  }
})

t.test('a second lock in the same process is refused, and the first stays', async (t) => {
  const dir = scratch(t, 'tessera-lock-')
  const release = lockDirectory(dir)
  t.throws(() => lockDirectory(dir), { name: 'DatabaseUnavailable', message: new RegExp(`in use by process ${process.pid}\\b`) })
  release()
  t.throws(() => readFileSync(lockFile(dir)), { code: 'ENOENT' }, 'released by its holder')
})

// Many processes told to take the same lock within the same millisecond, round after round.
t.test('many processes at once: exactly one wins, every time', async (t) => {
  const CONTENDERS = 6
  const ROUNDS = 12
  const contenders = Array.from({ length: CONTENDERS }, (_, i) =>
    spawnNode(t, tsx('test/security/helpers/lock-contender.ts'), { name: `contender ${i}`, cwd: scratch(t), stdin: 'pipe' }),
  )
  await Promise.all(contenders.map((c) => c.line('ready', /^ready$/, 60_000)))
  const dead = await deadProcess(t)

  const results: Record<string, number> = {}
  for (let round = 1; round <= ROUNDS; round++) {
    const dir = scratch(t, 'tessera-lock-race-')
    // Odd rounds: a free directory; even rounds: the lock of a process that has died.
    const scenario = round % 2 === 1 ? 'free' : 'stale'
    if (scenario === 'stale') writeFileSync(lockFile(dir), dead)
    const at = Date.now() + 300
    for (const c of contenders) c.stdin!.write(`lock ${round} ${dir} ${at}\n`)
    const lines = await Promise.all(contenders.map((c) => c.line(`round ${round}`, new RegExp(`^round ${round} (won|lost)`), 30_000)))
    const winners = contenders.filter((_, i) => lines[i]!.endsWith(' won'))
    results[`${scenario} round ${round}`] = winners.length
    t.equal(winners.length, 1, `round ${round} (${scenario}): exactly one winner (${winners.map((w) => w.name).join(', ') || 'none'})`)
    if (winners.length === 1) t.equal(readFileSync(lockFile(dir), 'utf8').split(' ')[0], String(winners[0]!.pid), 'the lock names the winner')
    for (const [i, line] of lines.entries()) {
      if (line.endsWith(' won')) continue
      t.match(line, /lost the embedded database in .* is in use by process \d+/, `${contenders[i]!.name}: refused, naming a holder`)
    }
    for (const c of contenders) c.stdin!.write(`release ${round}\n`)
    await Promise.all(contenders.map((c) => c.line(`release ${round}`, new RegExp(`^round ${round} released`), 30_000)))
    t.same(
      readdirSync(dir).filter((f) => f.includes('tessera')),
      [],
      'released: no lock file left, and no temporary or takeover file either',
    )
  }
  t.comment(JSON.stringify(results))
  for (const c of contenders) c.stdin!.end()
  await Promise.all(contenders.map((c) => c.exit(10_000)))
})
