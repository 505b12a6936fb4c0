// The per-request logger is only made when a line is written at a level in force.
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { lazyChild } from '../../src/lib/lazy-logger.js'

function capture(level: string) {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk, _e, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l: string) => JSON.parse(l)),
      )
      done()
    },
  })
  const root = pino({ level }, sink)
  let children = 0
  const child = root.child.bind(root)
  root.child = ((...args: Parameters<typeof child>) => {
    children++
    return child(...args)
  }) as typeof root.child
  return { root, lines, children: () => children }
}

t.test('below the level: nothing written, no child made', async (t) => {
  const { root, lines, children } = capture('warn')
  const log = lazyChild(root, { reqId: 'r1' })
  log.info({ req: 1 }, 'incoming request')
  log.debug('details')
  t.equal(children(), 0)
  t.equal(lines.length, 0)
  t.equal(log.level, 'warn')
})

t.test('at the level: one child, with its bindings, reused', async (t) => {
  const { root, lines, children } = capture('warn')
  const log = lazyChild(root, { reqId: 'r2' })
  log.warn('slow')
  log.error({ code: 1 }, 'failed')
  t.equal(children(), 1)
  t.match(lines, [
    { reqId: 'r2', msg: 'slow', level: 40 },
    { reqId: 'r2', msg: 'failed', code: 1, level: 50 },
  ])
})

t.test('a route-level level (logLevel) is honoured', async (t) => {
  const { root, lines } = capture('info')
  const quiet = lazyChild(root, { reqId: 'r3' }, { level: 'warn' })
  quiet.info('incoming request')
  t.equal(lines.length, 0)
  const loud = lazyChild(root, { reqId: 'r4' }, { level: 'debug' })
  loud.debug('hello')
  t.match(lines, [{ reqId: 'r4', msg: 'hello' }])
})
