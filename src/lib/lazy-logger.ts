// Fastify makes a child logger (bound to the request id) for every request. With pino's
// redaction that costs a few percent of a JWKS request even when nothing is logged at the
// level in force. This child is made on the first line actually written, and never otherwise.
import type { FastifyBaseLogger } from 'fastify'
import type { Bindings, ChildLoggerOptions, Level, LevelWithSilent, Logger } from 'pino'

const RANK: Record<LevelWithSilent, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }
const METHODS: Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']

export function lazyChild(parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions = {}): FastifyBaseLogger {
  const level = (opts.level ?? parent.level) as LevelWithSilent
  let real: FastifyBaseLogger | undefined
  const get = () => (real ??= parent.child(bindings, opts))
  const logger = {
    get level() {
      return real?.level ?? level
    },
    set level(value: string) {
      get().level = value
    },
    silent: () => {},
    child: (b: Bindings, o?: ChildLoggerOptions) => get().child(b, o),
    isLevelEnabled: (l: string) => RANK[l as Level] >= RANK[(real?.level ?? level) as LevelWithSilent],
  } as Record<string, unknown>
  for (const method of METHODS) {
    logger[method] = (...args: unknown[]) => {
      if (RANK[method] < RANK[(real?.level ?? level) as LevelWithSilent]) return
      ;(get()[method] as (...a: unknown[]) => void)(...args)
    }
  }
  return logger as unknown as FastifyBaseLogger & Pick<Logger, 'isLevelEnabled'>
}
